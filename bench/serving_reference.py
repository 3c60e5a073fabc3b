"""The reference of `npm run bench -- serving`: the service every MLOps tutorial builds.

A scikit-learn HistGradientBoostingClassifier (same shape as the Trestle model: 100 trees,
31 leaves, 255 bins, categorical origin/destination) trained on the same CSV, behind FastAPI
with a pydantic model per row, served by uvicorn (one worker, as the tutorials run it).

With KIND=logistic: a one-hot + standardised LogisticRegression pipeline instead.

Usage: /usr/bin/python3 bench/serving_reference.py TRAIN.csv PORT [gbdt|logistic]
Needs Debian python3-fastapi, python3-uvicorn, python3-sklearn, python3-pandas.
"""
import sys
from typing import List

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["hour", "weekday", "distance"]
CATEGORICAL = ["origin", "destination"]

train = pd.read_csv(sys.argv[1])
port = int(sys.argv[2])
kind = sys.argv[3] if len(sys.argv) > 3 else "gbdt"
categories = {c: pd.Index(sorted(train[c].astype(str).unique())) for c in CATEGORICAL}


def features(frame: pd.DataFrame) -> np.ndarray:
    cols = [frame[c].astype(float).to_numpy() for c in NUMERIC]
    for c in CATEGORICAL:
        codes = categories[c].get_indexer(frame[c].astype(str)).astype(float)
        codes[codes < 0] = np.nan  # unseen category: missing, as Trestle treats it
        cols.append(codes)
    return np.column_stack(cols)


if kind == "gbdt":
    model = HistGradientBoostingClassifier(
        max_iter=100,
        max_leaf_nodes=31,
        max_bins=255,
        learning_rate=0.1,
        early_stopping=False,
        categorical_features=[False] * len(NUMERIC) + [True] * len(CATEGORICAL),
    )
else:
    n = len(NUMERIC)
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), list(range(n))),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(n, n + len(CATEGORICAL)))),
        ]
    )
    model = make_pipeline(encode, LogisticRegression(C=1.0, max_iter=200))
    features_numeric = features

    def features(frame: pd.DataFrame) -> np.ndarray:  # noqa: F811 - NaN codes → -1 for the one-hot encoder
        x = features_numeric(frame)
        x[np.isnan(x)] = -1
        return x

model.fit(features(train), train["delayed"].to_numpy())


class Flight(BaseModel):
    hour: int
    weekday: int
    distance: float
    origin: str
    destination: str


app = FastAPI()


@app.post("/predict")
def predict(flights: List[Flight]):
    frame = pd.DataFrame([f.dict() for f in flights])
    p = model.predict_proba(features(frame))[:, 1]
    return {"predictions": [{"label": "1" if x >= 0.5 else "0", "probability": float(x)} for x in p]}


@app.get("/health")
def health():
    return {"status": "ok"}


print("ready", flush=True)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
