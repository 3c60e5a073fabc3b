/**
 * Adapts a model loaded by `@trestle/models`' `loadModel` to the server's `Predictor`.
 * Typed structurally (the slice of `LoadedModel` used here), so this file does not load the
 * models package; the server has already validated every value against the signature, so
 * it calls `predictInput` and the model does not check the rows a second time.
 */
import type { PredictionTask, ReferenceProfile } from '@trestle/monitoring';
import type { InputColumns, Outputs, Predictor, Signature } from './predictor.js';

type ModelColumn =
  | { readonly type: string; readonly values: Float64Array }
  | { readonly type: 'string'; readonly codes: Int32Array; readonly dictionary: readonly string[] };

/** The slice of `@trestle/models`' `LoadedModel` the server uses. */
export interface LoadedModelLike {
  readonly uri: string;
  readonly path: string;
  readonly version?: { readonly name: string; readonly version: string; readonly alias?: string };
  readonly flavor: string;
  readonly signature: Signature;
  readonly manifest: {
    readonly task: string;
    readonly classes?: readonly string[];
    readonly profile?: ReferenceProfile;
    readonly run?: { readonly runId: string };
  };
  predictInput(input: { rows: number; columns: Record<string, ModelColumn> }): Promise<{
    readonly rows: number;
    readonly outputs: Readonly<Record<string, Float64Array | readonly string[]>>;
  }>;
  close(): Promise<void>;
}

/** Dictionary-encodes a string column (null → code −1). */
function encode(values: readonly (string | null)[]): { codes: Int32Array; dictionary: string[] } {
  const codes = new Int32Array(values.length);
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      codes[i] = -1;
      continue;
    }
    let c = index.get(v);
    if (c === undefined) {
      c = dictionary.length;
      dictionary.push(v);
      index.set(v, c);
    }
    codes[i] = c;
  }
  return { codes, dictionary };
}

const TASKS = new Set(['binary-classification', 'multiclass-classification', 'regression']);

/**
 * The `Predictor` of a loaded model. `name`/`version` come from the registry when the URI was
 * `models:/…`; otherwise the package folder's name and `fallbackVersion` (e.g. the run id).
 */
export function modelPredictor(model: LoadedModelLike, names: { name?: string; version?: string } = {}): Predictor {
  const types = new Map(model.signature.inputs.map((s) => [s.name, s.type]));
  const folder =
    model.path
      .split(/[\\/]/)
      .filter((s) => s !== '')
      .at(-1) ?? 'model';
  const task = model.manifest.task;
  const predictor: Predictor = {
    name: names.name ?? model.version?.name ?? folder,
    version: names.version ?? model.version?.version ?? model.manifest.run?.runId.slice(0, 8) ?? '1',
    platform: model.flavor,
    signature: model.signature,
    ...(TASKS.has(task) ? { task: task as PredictionTask } : {}),
    ...(model.manifest.classes === undefined ? {} : { classes: model.manifest.classes }),
    ...(model.manifest.profile === undefined ? {} : { profile: model.manifest.profile }),
    predict: async (columns: InputColumns, rows: number): Promise<Outputs> => {
      const input: Record<string, ModelColumn> = {};
      for (const [name, col] of Object.entries(columns)) {
        const type = types.get(name) ?? 'double';
        input[name] = col instanceof Float64Array ? { type, values: col } : { type: 'string', ...encode(col) };
      }
      const p = await model.predictInput({ rows, columns: input });
      return p.outputs as Outputs;
    },
    close: () => model.close(),
  };
  return predictor;
}

/** A row to warm a freshly loaded model with: typical values from its reference profile. */
export function warmupBatch(predictor: Predictor): { rows: number; columns: InputColumns } {
  const columns: InputColumns = {};
  const profile = new Map((predictor.profile?.features ?? []).map((f) => [f.name, f]));
  for (const input of predictor.signature.inputs) {
    const f = profile.get(input.name);
    const t = input.type.toLowerCase();
    if (t === 'string' || t === 'str' || t === 'category' || t === 'categorical') {
      columns[input.name] = [f?.kind === 'categorical' ? (f.categories[0] ?? null) : null];
    } else {
      const mean = f?.kind === 'numeric' ? (f.mean ?? 0) : 0;
      columns[input.name] = Float64Array.of(t === 'long' || t === 'integer' || t === 'int' ? Math.round(mean) : mean);
    }
  }
  return { rows: 1, columns };
}
