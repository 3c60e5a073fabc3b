import type { FeatureSpec } from '../columns.js';
import { ElemType, type OnnxInitializer, type OnnxNode, type OnnxValue } from './graph.js';

/**
 * The element type of a feature's graph input. Exported graphs take what MLflow's pyfunc
 * feeds after enforcing the signature (`mlflow/onnx/__init__.py`, `_OnnxModelWrapper.predict`):
 * one rank-1 `[N]` tensor per column, named like the column, of the column's own type, since
 * the wrapper casts nothing but float64 to a `tensor(float)` input (a `long` column arrives as
 * int64, a `double` one as float64 cast to float32, strings as strings).
 */
export type OnnxInputType = 'float' | 'int64' | 'int32' | 'bool' | 'string';

/** Input element types by feature name; a feature not named takes float (numeric) or string (categorical). */
export type OnnxInputTypes = Readonly<Record<string, OnnxInputType>>;

const ELEM: Record<OnnxInputType, number> = {
  float: ElemType.FLOAT,
  int64: ElemType.INT64,
  int32: 6,
  bool: 9,
  string: ElemType.STRING,
};

/**
 * What a missing value is in an integer input, which has no NaN: the type's minimum
 * (−2⁶³ for int64, −2³¹ for int32). Exact in float32 (powers of two), so the graph tests for
 * it after its cast to float; Trestle's onnx flavor feeds it for a missing value.
 */
const INTEGER_MISSING = { int64: -(2 ** 63), int32: -(2 ** 31) } as const;

/**
 * Builds the front of an exported graph: one rank-1 input per feature and the nodes that turn
 * them into what the model needs. Node and initializer names are prefixed by the feature's
 * position, so any column name is safe.
 */
export class FeatureFront {
  readonly inputs: OnnxValue[] = [];
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  readonly #types: OnnxInputTypes;
  readonly #constants = new Set<string>();

  constructor(
    readonly features: readonly FeatureSpec[],
    types: OnnxInputTypes = {},
  ) {
    this.#types = types;
    for (const spec of features) {
      const type = this.type(spec);
      this.inputs.push({ name: spec.name, elemType: ELEM[type], shape: [null] });
    }
  }

  /** The element type of a feature's input. */
  type(spec: FeatureSpec): OnnxInputType {
    return this.#types[spec.name] ?? (spec.type === 'numeric' ? 'float' : 'string');
  }

  /** A named constant (float or int64), added once. */
  constant(
    name: string,
    elemType: typeof ElemType.FLOAT | typeof ElemType.INT64,
    dims: number[],
    values: number[],
  ): string {
    if (!this.#constants.has(name)) {
      this.#constants.add(name);
      this.initializers.push({ name, elemType, dims, values });
    }
    return name;
  }

  /** `x` `[N]` as `[N, 1]`. */
  column(x: string, out: string): string {
    const axes = this.constant('axis_1', ElemType.INT64, [1], [1]);
    this.nodes.push({ op: 'Unsqueeze', inputs: [x, axes], outputs: [out] });
    return out;
  }

  /** `x` `[N, 1]` as `[N]`. */
  flat(x: string, out: string): string {
    const axes = this.constant('axis_1', ElemType.INT64, [1], [1]);
    this.nodes.push({ op: 'Squeeze', inputs: [x, axes], outputs: [out] });
    return out;
  }

  /** Column `j` of `x` `[N, K]`, as `[N]`. */
  pick(x: string, j: number, out: string): string {
    const index = this.constant(`index_${j}`, ElemType.INT64, [], [j]);
    this.nodes.push({ op: 'Gather', inputs: [x, index], outputs: [out], attributes: { axis: { int: 1 } } });
    return out;
  }

  /**
   * A numeric input as float `[N]`, NaN where missing: cast from its type; in an integer
   * input, the type's minimum reads as missing.
   */
  number(f: number): string {
    const spec = this.features[f]!;
    const type = this.type(spec);
    if (type === 'string') throw new Error(`feature '${spec.name}': a numeric value cannot come from a string input`);
    if (type === 'float') return spec.name;
    const cast = `f${f}_float`;
    this.nodes.push({ op: 'Cast', inputs: [spec.name], outputs: [cast], attributes: { to: { int: ElemType.FLOAT } } });
    if (type === 'bool') return cast;
    const missing = this.constant(`missing_${type}`, ElemType.FLOAT, [], [INTEGER_MISSING[type]]);
    const nan = this.constant('nan', ElemType.FLOAT, [], [NaN]);
    this.nodes.push({ op: 'Equal', inputs: [cast, missing], outputs: [`f${f}_is_missing`] });
    this.nodes.push({ op: 'Where', inputs: [`f${f}_is_missing`, nan, cast], outputs: [`f${f}_value`] });
    return `f${f}_value`;
  }

  /**
   * A categorical input as the index of its category `[N]` (int64 or float), `unknown` for a
   * category not in `levels` or a missing value. String inputs are looked up by text; numeric
   * ones (numbers used as categories, whose levels are their text) by value.
   */
  category(f: number, levels: readonly string[], as: 'int64' | 'float', unknown: number): string {
    const spec = this.features[f]!;
    const out = `f${f}_code`;
    const values = as === 'int64' ? { values_int64s: { ints: levels.map((_, i) => i) } } : undefined;
    if (this.type(spec) === 'string') {
      this.nodes.push({
        op: 'LabelEncoder',
        domain: 'ai.onnx.ml',
        inputs: [spec.name],
        outputs: [out],
        attributes: {
          keys_strings: { strings: levels },
          ...(values ?? { values_floats: { floats: levels.map((_, i) => i) } }),
          ...(as === 'int64' ? { default_int64: { int: unknown } } : { default_float: { float: unknown } }),
        },
      });
      return out;
    }
    // By value: float keys to int64 indices (a pair onnxruntime implements), then the unknown slot.
    const index = `f${f}_index`;
    this.nodes.push({
      op: 'LabelEncoder',
      domain: 'ai.onnx.ml',
      inputs: [this.number(f)],
      outputs: [index],
      attributes: {
        keys_floats: { floats: levels.map(Number) },
        values_int64s: { ints: levels.map((_, i) => i) },
        default_int64: { int: -1 },
      },
    });
    const indexFloat = `f${f}_index_float`;
    this.nodes.push({
      op: 'Cast',
      inputs: [index],
      outputs: [indexFloat],
      attributes: { to: { int: ElemType.FLOAT } },
    });
    const zero = this.constant('zero', ElemType.FLOAT, [], [0]);
    const slot = this.constant(`unknown_${unknown}`, ElemType.FLOAT, [], [unknown]);
    this.nodes.push({ op: 'Less', inputs: [indexFloat, zero], outputs: [`f${f}_unknown`] });
    const coded = as === 'int64' ? `f${f}_code_float` : out;
    this.nodes.push({ op: 'Where', inputs: [`f${f}_unknown`, slot, indexFloat], outputs: [coded] });
    if (as === 'int64')
      this.nodes.push({ op: 'Cast', inputs: [coded], outputs: [out], attributes: { to: { int: ElemType.INT64 } } });
    return out;
  }
}
