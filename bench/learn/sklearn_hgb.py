"""scikit-learn side of `npm run bench -- learn`.

Reads the feature matrices that bench/learn.ts wrote (float32, row-major) and the labels
(uint8), trains HistGradientBoostingClassifier with the settings in meta.json, and prints
one JSON object: fit seconds, test AUC, and predict_proba latency for one row and for
1,000 rows. Run with Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score


def load(folder, name, dtype, cols):
    data = np.fromfile(os.path.join(folder, name), dtype=dtype)
    return data.reshape(-1, cols) if cols > 1 else data


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    F = len(meta["features"])
    X_train = load(folder, "train_X.f32", np.float32, F)
    y_train = load(folder, "train_y.u8", np.uint8, 1)
    X_test = load(folder, "test_X.f32", np.float32, F)
    y_test = load(folder, "test_y.u8", np.uint8, 1)
    p = meta["params"]
    mask = np.array([f["categorical"] for f in meta["features"]])
    model = HistGradientBoostingClassifier(
        max_iter=p["rounds"],
        learning_rate=p["learningRate"],
        max_leaf_nodes=p["maxLeaves"],
        min_samples_leaf=p["minSamplesLeaf"],
        l2_regularization=p["l2"],
        max_bins=p["maxBins"],
        categorical_features=mask,
        early_stopping=False,
        random_state=0,
    )
    t = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - t
    proba = model.predict_proba(X_test)[:, 1]
    auc = roc_auc_score(y_test, proba)

    def median_seconds(fn, repeats, warmup=5):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    one = X_test[:1]
    thousand = X_test[:1000]
    single = median_seconds(lambda: model.predict_proba(one), 300)
    batch = median_seconds(lambda: model.predict_proba(thousand), 50)
    print(
        json.dumps(
            {
                "sklearn": sklearn.__version__,
                "fitSeconds": fit_seconds,
                "testAuc": auc,
                "trees": int(model.n_iter_),
                "singleRowMicros": single * 1e6,
                "thousandRowsMillis": batch * 1e3,
                "threads": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
