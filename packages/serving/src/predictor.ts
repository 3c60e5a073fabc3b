/**
 * The one thing the inference server needs from a model: its signature and a columnar
 * `predict`. `@trestle/models`' `loadModel` result is adapted to it (`model-predictor.ts`), so
 * the protocols, batching, logging and hot-swap code never depend on a flavor.
 */
import type { PredictionTask, ReferenceProfile } from '@trestle/monitoring';

/** One input column of a signature: MLflow's column types (`double`, `long`, `string`, …). */
export interface SignatureInput {
  readonly name: string;
  /** `double`, `float`, `long`, `integer`, `boolean`, `string` (and their aliases, see `signature.ts`). */
  readonly type: string;
  /** A missing value (null, absent, NaN) is allowed. */
  readonly optional?: boolean;
}

/** One output of a signature. */
export interface SignatureOutput {
  readonly name: string;
  readonly type: string;
}

/** The model's input and output schema. */
export interface Signature {
  readonly inputs: readonly SignatureInput[];
  readonly outputs: readonly SignatureOutput[];
}

/** A validated input column: numbers (NaN = missing) or strings (null = missing). */
export type InputColumn = Float64Array | (string | null)[];
/** An output column, one value per row. */
export type OutputColumn = Float64Array | string[];
/** Input columns by name, all of one length. */
export type InputColumns = Record<string, InputColumn>;
/** Output columns by name (`label`, `probability`, `value`, …), all of one length. */
export type Outputs = Record<string, OutputColumn>;

/** Rows of a request, validated against the signature and stored by column. */
export interface Batch {
  readonly rows: number;
  readonly columns: InputColumns;
}

/**
 * A loaded model version, ready to answer.
 *
 * @example
 * const outputs = await predictor.predict({ distance: Float64Array.of(1200), origin: ['SFO'] }, 1);
 * outputs.probability; // Float64Array [0.23]
 */
export interface Predictor {
  /** Registered model name (or the package folder's name). */
  readonly name: string;
  /** Version that answers, e.g. `3` (put in every response's `x-model-version` header). */
  readonly version: string;
  readonly signature: Signature;
  readonly task?: PredictionTask;
  /** Class names of a classifier (outputs `label` holds one of them). */
  readonly classes?: readonly string[];
  /** The training data's reference profile: window summaries are kept on its bins. */
  readonly profile?: ReferenceProfile;
  /** Flavor for `/v2` metadata (`builtin`, `onnx`). */
  readonly platform: string;
  /** Predicts `rows` rows; each output column has `rows` values. May run off the main thread. */
  predict(columns: InputColumns, rows: number): Outputs | Promise<Outputs>;
  /** Frees native resources (an ONNX session). */
  close?(): Promise<void>;
}
