import type { FeatureSpec } from '../columns.js';
import type { Task } from '../model.js';
import type { Tree } from '../gbdt/ensemble.js';
import { FeatureFront, type OnnxInputTypes } from './columns.js';
import { ElemType, encodeModel, type OnnxValue } from './graph.js';

/** What the exporter needs of a GBDT (see `GbdtModel`). */
export interface TreeEnsembleSource {
  readonly task: Task;
  readonly features: readonly FeatureSpec[];
  readonly classes: readonly string[];
  readonly baseScore: Float64Array;
  readonly trees: readonly Tree[];
}

/** Name of the float [N, F] tensor that the feature front produces. */
const FEATURES = 'features';

/**
 * The graph's front: one rank-1 input per feature (see `FeatureFront`) and the nodes
 * that turn them into one float [N, F] tensor: a categorical feature becomes its category
 * code through a LabelEncoder, and an unknown category becomes NaN (missing), which is what
 * the built-in model does with an unknown category.
 */
function codedFeatures(features: readonly FeatureSpec[], types: OnnxInputTypes): FeatureFront {
  const front = new FeatureFront(features, types);
  const parts = features.map((spec, f) =>
    front.column(
      spec.type === 'numeric' ? front.number(f) : front.category(f, spec.categories, 'float', NaN),
      `f${f}_column`,
    ),
  );
  front.nodes.push({ op: 'Concat', inputs: parts, outputs: [FEATURES], attributes: { axis: { int: 1 } } });
  return front;
}

/**
 * Exports a GBDT as an ONNX model whose outputs are all rank 1 `[N]`, as MLflow's pyfunc
 * wrapper needs to make them DataFrame columns: a classifier (TreeEnsembleClassifier) gives
 * `label` (the class name) and `probability` (of the positive class) when binary, or one
 * `probability_<class>` per class; a regressor (TreeEnsembleRegressor) gives `value`.
 * Numeric splits are BRANCH_LEQ on float32 thresholds (the built-in model compares in
 * float32 too); a categorical split is a chain of BRANCH_EQ nodes over the smaller side's
 * categories whose true branches share one child; a missing value follows
 * `nodes_missing_value_tracks_true` as the learned direction.
 */
export function gbdtToOnnx(model: TreeEnsembleSource, types: OnnxInputTypes = {}): Uint8Array {
  const front = codedFeatures(model.features, types);
  const a = new Attrs();
  model.trees.forEach((tree, t) => exportTree(tree, t, model.features, a));
  const common = {
    nodes_treeids: { ints: a.treeIds },
    nodes_nodeids: { ints: a.nodeIds },
    nodes_featureids: { ints: a.featureIds },
    nodes_modes: { strings: a.modes },
    nodes_values: { floats: a.values },
    nodes_truenodeids: { ints: a.trueIds },
    nodes_falsenodeids: { ints: a.falseIds },
    nodes_missing_value_tracks_true: { ints: a.missingTrue },
  };
  const outputs: OnnxValue[] = [];
  const output = (name: string, elemType: number): void => {
    outputs.push({ name, elemType, shape: [null] });
  };
  if (model.task === 'regression') {
    front.nodes.push({
      op: 'TreeEnsembleRegressor',
      domain: 'ai.onnx.ml',
      inputs: [FEATURES],
      outputs: ['variable'],
      attributes: {
        ...common,
        target_treeids: { ints: a.leafTree },
        target_nodeids: { ints: a.leafNode },
        target_ids: { ints: a.leafSlot },
        target_weights: { floats: a.leafValue },
        n_targets: { int: 1 },
        base_values: { floats: model.baseScore },
        aggregate_function: { string: 'SUM' },
        post_transform: { string: 'NONE' },
      },
    });
    output(front.flat('variable', 'value'), ElemType.FLOAT);
  } else {
    front.nodes.push({
      op: 'TreeEnsembleClassifier',
      domain: 'ai.onnx.ml',
      inputs: [FEATURES],
      outputs: ['label', 'probabilities'],
      attributes: {
        ...common,
        class_treeids: { ints: a.leafTree },
        class_nodeids: { ints: a.leafNode },
        // A binary model has one score (the log-odds of classes[1]); onnxruntime then
        // reports [1 − p, p] under LOGISTIC, as for scikit-learn's converted models.
        class_ids: { ints: a.leafSlot },
        class_weights: { floats: a.leafValue },
        classlabels_strings: { strings: model.classes },
        base_values: { floats: model.baseScore },
        post_transform: { string: model.task === 'binary' ? 'LOGISTIC' : 'SOFTMAX' },
      },
    });
    output('label', ElemType.STRING);
    if (model.task === 'binary') output(front.pick('probabilities', 1, 'probability'), ElemType.FLOAT);
    else model.classes.forEach((c, j) => output(front.pick('probabilities', j, `probability_${c}`), ElemType.FLOAT));
  }
  return encodeModel({
    graphName: 'trestle_gbdt',
    nodes: front.nodes,
    inputs: front.inputs,
    outputs,
    initializers: front.initializers,
    docString: `Trestle gradient-boosted trees (${model.task}, ${model.trees.length} trees)`,
    metadata: { 'trestle.model': 'gbdt', 'trestle.task': model.task },
  });
}

class Attrs {
  treeIds: number[] = [];
  nodeIds: number[] = [];
  featureIds: number[] = [];
  modes: string[] = [];
  values: number[] = [];
  trueIds: number[] = [];
  falseIds: number[] = [];
  missingTrue: number[] = [];
  leafTree: number[] = [];
  leafNode: number[] = [];
  leafSlot: number[] = [];
  leafValue: number[] = [];
}

function exportTree(tree: Tree, t: number, features: readonly FeatureSpec[], a: Attrs): void {
  // Number the ONNX nodes first: a categorical split may expand to a chain of several.
  const n = tree.feature.length;
  const first = new Int32Array(n);
  const chains: number[][] = [];
  const chainGoesLeft = new Uint8Array(n);
  let next = 0;
  for (let i = 0; i < n; i++) {
    first[i] = next;
    const f = tree.feature[i]!;
    const spec = f >= 0 ? features[f]! : null;
    let chain: number[] = [];
    if (spec?.type === 'categorical') {
      const left = tree.leftCategories[i]!;
      const inLeft = new Uint8Array(spec.categories.length);
      for (const c of left) inLeft[c] = 1;
      const right: number[] = [];
      for (let c = 0; c < inLeft.length; c++) if (inLeft[c] === 0) right.push(c);
      // Test the smaller side; an empty side means "is the value missing?" (one node).
      chainGoesLeft[i] = left.length <= right.length ? 1 : 0;
      chain = chainGoesLeft[i] === 1 ? Array.from(left) : right;
    }
    chains.push(chain);
    next += Math.max(1, chain.length);
  }
  for (let i = 0; i < n; i++) {
    const f = tree.feature[i]!;
    const id = first[i]!;
    if (f < 0) {
      push(a, t, id, 0, 'LEAF', 0, 0, 0, 0);
      a.leafTree.push(t);
      a.leafNode.push(id);
      a.leafSlot.push(tree.slot);
      a.leafValue.push(tree.value[i]!);
      continue;
    }
    const left = first[tree.left[i]!]!;
    const right = first[tree.right[i]!]!;
    const missingLeft = tree.missingLeft[i]!;
    if (features[f]!.type === 'numeric') {
      push(a, t, id, f, 'BRANCH_LEQ', tree.threshold[i]!, left, right, missingLeft);
      continue;
    }
    const chain = chains[i]!;
    const goesLeft = chainGoesLeft[i] === 1;
    const hit = goesLeft ? left : right;
    const miss = goesLeft ? right : left;
    const missingToHit = goesLeft ? missingLeft : 1 - missingLeft;
    if (chain.length === 0) {
      // Every known category is on the other side: x ≤ +∞ holds for any non-missing value.
      push(a, t, id, f, 'BRANCH_LEQ', Infinity, miss, hit, 1 - missingToHit);
      continue;
    }
    chain.forEach((c, j) => {
      const falseId = j + 1 < chain.length ? id + j + 1 : miss;
      push(a, t, id + j, f, 'BRANCH_EQ', c, hit, falseId, j === 0 ? missingToHit : 0);
    });
  }
}

function push(
  a: Attrs,
  tree: number,
  id: number,
  feature: number,
  mode: string,
  value: number,
  trueId: number,
  falseId: number,
  missingTrue: number,
): void {
  a.treeIds.push(tree);
  a.nodeIds.push(id);
  a.featureIds.push(feature);
  a.modes.push(mode);
  a.values.push(value);
  a.trueIds.push(trueId);
  a.falseIds.push(falseId);
  a.missingTrue.push(missingTrue);
}
