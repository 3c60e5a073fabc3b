import type { FeatureSpec } from '../columns.js';
import type { NumericStep, CategoricalStep } from '../linear/preprocessor.js';
import { FeatureFront, type OnnxInputTypes } from './columns.js';
import { ElemType, encodeModel, type OnnxValue } from './graph.js';

/** What the exporter needs of a linear model (see `LinearModel`). */
export interface LinearSource {
  readonly task: 'binary' | 'multiclass' | 'regression';
  readonly classes: readonly string[];
  readonly features: readonly FeatureSpec[];
  readonly preprocessor: { readonly numeric: readonly NumericStep[]; readonly categorical: readonly CategoricalStep[] };
  readonly weights: Float64Array;
  readonly intercept: number;
}

/**
 * Exports a linear or logistic model with its preprocessing as an ONNX graph, inputs one
 * rank-1 [N] tensor per feature (see `FeatureFront`): numeric → Where(IsNaN, training mean)
 * → (x − mean) / std → MatMul with the weights, plus the missing-indicator weights;
 * categorical → LabelEncoder to a level index (unknown → an extra slot of weight 0) → Gather
 * of its weights; all summed with the intercept. Every output is rank 1 `[N]` (what MLflow's
 * pyfunc wrapper turns into DataFrame columns): logistic models give `label` (class name)
 * and `probability` (of classes[1]); linear ones `value`.
 */
export function linearToOnnx(model: LinearSource, types: OnnxInputTypes = {}): Uint8Array {
  const { numeric, categorical } = model.preprocessor;
  const front = new FeatureFront(model.features, types);
  const at = new Map(model.features.map((f, i) => [f.name, i]));
  const nodes = front.nodes;
  const inits = front.initializers;
  const float = (name: string, dims: number[], values: ArrayLike<number>): string => {
    inits.push({ name, elemType: ElemType.FLOAT, dims, values });
    return name;
  };
  const parts: string[] = [];
  const k = numeric.length;
  const w = model.weights;
  if (k > 0) {
    nodes.push({
      op: 'Concat',
      inputs: numeric.map((s) => {
        const f = at.get(s.name)!;
        return front.column(front.number(f), `f${f}_column`);
      }),
      outputs: ['num'],
      attributes: { axis: { int: 1 } },
    });
    nodes.push({ op: 'IsNaN', inputs: ['num'], outputs: ['num_nan'] });
    float(
      'impute',
      [1, k],
      numeric.map((s) => s.impute),
    );
    nodes.push({ op: 'Where', inputs: ['num_nan', 'impute', 'num'], outputs: ['num_imputed'] });
    float(
      'mean',
      [1, k],
      numeric.map((s) => s.mean),
    );
    float(
      'std',
      [1, k],
      numeric.map((s) => s.std),
    );
    nodes.push({ op: 'Sub', inputs: ['num_imputed', 'mean'], outputs: ['num_centred'] });
    nodes.push({ op: 'Div', inputs: ['num_centred', 'std'], outputs: ['num_scaled'] });
    float('w_num', [k, 1], w.subarray(0, k));
    nodes.push({ op: 'MatMul', inputs: ['num_scaled', 'w_num'], outputs: ['z_num'] });
    parts.push('z_num');
    if (numeric.some((s) => s.indicator)) {
      const flagWeights = new Float64Array(k);
      let at = k;
      numeric.forEach((s, j) => {
        if (s.indicator) flagWeights[j] = w[at++]!;
      });
      nodes.push({
        op: 'Cast',
        inputs: ['num_nan'],
        outputs: ['num_flags'],
        attributes: { to: { int: ElemType.FLOAT } },
      });
      float('w_missing', [k, 1], flagWeights);
      nodes.push({ op: 'MatMul', inputs: ['num_flags', 'w_missing'], outputs: ['z_missing'] });
      parts.push('z_missing');
    }
  }
  let offset = k + numeric.filter((s) => s.indicator).length;
  categorical.forEach((step, j) => {
    const L = step.levels.length;
    const idx = front.column(front.category(at.get(step.name)!, step.levels, 'int64', L), `cat_${j}_index`);
    const weights = new Float64Array(L + 1);
    weights.set(w.subarray(offset, offset + L));
    offset += L;
    const table = float(`w_cat_${j}`, [L + 1], weights);
    nodes.push({ op: 'Gather', inputs: [table, idx], outputs: [`z_cat_${j}`], attributes: { axis: { int: 0 } } });
    parts.push(`z_cat_${j}`);
  });
  float('intercept', [1, 1], [model.intercept]);
  nodes.push({ op: 'Sum', inputs: [...parts, 'intercept'], outputs: ['z'] });

  let outputs: OnnxValue[];
  if (model.task === 'regression') {
    outputs = [{ name: front.flat('z', 'value'), elemType: ElemType.FLOAT, shape: [null] }];
  } else {
    float('one', [1, 1], [1]);
    nodes.push({ op: 'Sigmoid', inputs: ['z'], outputs: ['p1'] });
    nodes.push({ op: 'Sub', inputs: ['one', 'p1'], outputs: ['p0'] });
    nodes.push({ op: 'Concat', inputs: ['p0', 'p1'], outputs: ['probabilities'], attributes: { axis: { int: 1 } } });
    nodes.push({
      op: 'ArgMax',
      inputs: ['probabilities'],
      outputs: ['label_index'],
      attributes: { axis: { int: 1 }, keepdims: { int: 0 } },
    });
    nodes.push({
      op: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      inputs: ['label_index'],
      outputs: ['label'],
      attributes: {
        keys_int64s: { ints: model.classes.map((_, i) => i) },
        values_strings: { strings: model.classes },
        default_string: { string: '' },
      },
    });
    outputs = [
      { name: 'label', elemType: ElemType.STRING, shape: [null] },
      { name: front.flat('p1', 'probability'), elemType: ElemType.FLOAT, shape: [null] },
    ];
  }
  return encodeModel({
    graphName: `trestle_${model.task === 'regression' ? 'linear' : 'logistic'}`,
    nodes,
    inputs: front.inputs,
    outputs,
    initializers: inits,
    docString: `Trestle ${model.task === 'regression' ? 'linear' : 'logistic'} regression with its preprocessing`,
    metadata: { 'trestle.model': model.task === 'regression' ? 'linear' : 'logistic', 'trestle.task': model.task },
  });
}
