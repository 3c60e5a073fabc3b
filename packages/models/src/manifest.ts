/**
 * The manifest of a model package, `trestle-model.json`: what the model is (flavor, task,
 * classes, signature), where it came from (run, datasets), how good it was (metrics) and
 * what its training data looked like (the reference profile monitoring compares with).
 * One TypeBox schema gives validation and the TypeScript type.
 */
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { TrestleError } from '@trestle/core';
import { ReferenceProfileSchema, parseReferenceProfile } from '@trestle/monitoring';
import { checkSignature, type Signature } from './signature.js';

/** The manifest file's name inside a package folder. */
export const MANIFEST_FILE = 'trestle-model.json';
/** Version of the manifest format this build writes and reads. */
export const MANIFEST_FORMAT_VERSION = 1;

const ColumnSpecSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.Union([
      Type.Literal('boolean'),
      Type.Literal('integer'),
      Type.Literal('long'),
      Type.Literal('float'),
      Type.Literal('double'),
      Type.Literal('datetime'),
      Type.Literal('string'),
    ]),
    optional: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const FlavorSchema = Type.Union([Type.Literal('builtin'), Type.Literal('onnx')]);
export type Flavor = Static<typeof FlavorSchema>;

export const TaskSchema = Type.Union([
  Type.Literal('binary-classification'),
  Type.Literal('multiclass-classification'),
  Type.Literal('regression'),
  /** A model registered from elsewhere whose outputs are passed through as the graph gives them. */
  Type.Literal('other'),
]);
export type Task = Static<typeof TaskSchema>;

export const ModelManifestSchema = Type.Object(
  {
    format: Type.Literal('trestle.model'),
    formatVersion: Type.Literal(MANIFEST_FORMAT_VERSION),
    /** The flavor `loadModel` uses unless told otherwise. */
    flavor: FlavorSchema,
    /** The files of each flavor the package carries, relative to the package folder. */
    flavors: Type.Object(
      {
        builtin: Type.Optional(
          Type.Object(
            { path: Type.String({ minLength: 1 }), format: Type.String({ minLength: 1 }) },
            { additionalProperties: false },
          ),
        ),
        onnx: Type.Optional(
          Type.Object(
            {
              path: Type.String({ minLength: 1 }),
              /**
               * The graph output holding the scores (class probabilities, `[N]` for the positive
               * class or `[N, classes]`, or regression values). Default: the first float output.
               * A name ending in `*` is a prefix: one `[N]` output per class, `<prefix><class>`.
               */
              scores: Type.Optional(Type.String({ minLength: 1 })),
              /**
               * `minimum`: the graph reads an integer input's minimum (−2⁶³, −2³¹) as a missing
               * value, so one is fed for a missing value (Trestle's exported graphs). Without
               * it a missing value in an integer input is refused.
               */
              integerMissing: Type.Optional(Type.Literal('minimum')),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    task: TaskSchema,
    /** Class names, in the order of the model's class probabilities (classification only). */
    classes: Type.Optional(Type.Array(Type.String())),
    signature: Type.Object(
      { inputs: Type.Array(ColumnSpecSchema), outputs: Type.Array(ColumnSpecSchema) },
      { additionalProperties: false },
    ),
    /** The trainer and its settings. */
    trainer: Type.Optional(
      Type.Object(
        {
          name: Type.String(),
          params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
        },
        { additionalProperties: false },
      ),
    ),
    /** The run that produced the model. */
    run: Type.Optional(
      Type.Object(
        {
          runId: Type.String(),
          experimentId: Type.Optional(Type.String()),
          artifactPath: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    /** The datasets the model was trained and evaluated on, by content digest. */
    datasets: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          digest: Type.String(),
          source: Type.Optional(Type.String()),
          context: Type.Optional(Type.String()),
          rows: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Evaluation metrics (e.g. `test_auc`). */
    metrics: Type.Record(Type.String(), Type.Number()),
    /** Profile of the training features and of the predictions on them. */
    profile: Type.Optional(ReferenceProfileSchema),
    createdAt: Type.String(),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/**
 * A parsed `trestle-model.json`.
 *
 * @example
 * const manifest: ModelManifest = {
 *   format: 'trestle.model', formatVersion: 1, flavor: 'builtin',
 *   flavors: { builtin: { path: 'model.json', format: 'trestle.linear' } },
 *   task: 'binary-classification', classes: ['0', '1'],
 *   signature: { inputs: [{ name: 'distance', type: 'double' }], outputs: [{ name: 'label', type: 'string' }, { name: 'probability', type: 'double' }] },
 *   datasets: [], metrics: { test_auc: 0.62 }, createdAt: new Date().toISOString(),
 * };
 */
export type ModelManifest = Static<typeof ModelManifestSchema>;

/**
 * The outputs a model of `task` gives: binary → `label` and `probability` (of `classes[1]`),
 * multiclass → `label` and `probability_<class>` per class, regression → `value`.
 *
 * @example standardOutputs('binary-classification', ['no', 'yes']) // [{ name: 'label', … }, { name: 'probability', … }]
 */
export function standardOutputs(task: Exclude<Task, 'other'>, classes: readonly string[] = []): Signature['outputs'] {
  if (task === 'regression') return [{ name: 'value', type: 'double' }];
  if (task === 'binary-classification')
    return [
      { name: 'label', type: 'string' },
      { name: 'probability', type: 'double' },
    ];
  return [
    { name: 'label', type: 'string' },
    ...classes.map((c) => ({ name: `probability_${c}`, type: 'double' as const })),
  ];
}

/**
 * Checks a manifest read from JSON: the schema, then what the schema cannot say (the
 * default flavor is present, classes fit the task, signature names are unique, the
 * profile's invariants).
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming the first problem, prefixed by `where`.
 */
export function parseManifest(json: unknown, where = MANIFEST_FILE): ModelManifest {
  if (!Value.Check(ModelManifestSchema, json)) {
    const errors = [...Value.Errors(ModelManifestSchema, json)].slice(0, 3);
    const o = json as Record<string, unknown> | null;
    if (
      typeof o === 'object' &&
      o !== null &&
      o['format'] === 'trestle.model' &&
      o['formatVersion'] !== MANIFEST_FORMAT_VERSION
    ) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${where} has format version ${JSON.stringify(o['formatVersion'])}; this build reads version ${MANIFEST_FORMAT_VERSION} (upgrade trestle)`,
      );
    }
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} is not a valid model manifest: ${errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`,
    );
  }
  const m = json;
  const bad = (why: string): never => {
    throw new TrestleError('INVALID_ARGUMENT', `${where} is inconsistent: ${why}`);
  };
  if (m.flavors[m.flavor] === undefined) bad(`its flavor is '${m.flavor}' but it lists no '${m.flavor}' files`);
  checkSignature(m.signature, `${where} signature`);
  if (m.task === 'regression' || m.task === 'other') {
    if (m.classes !== undefined && m.classes.length > 0) bad(`a ${m.task} model has no classes`);
  } else {
    const k = m.classes?.length ?? 0;
    if (m.task === 'binary-classification' && k !== 2) bad(`a binary classifier needs 2 classes, it lists ${k}`);
    if (m.task === 'multiclass-classification' && k < 2)
      bad(`a multiclass classifier needs at least 2 classes, it lists ${k}`);
    if (new Set(m.classes).size !== k) bad('its classes repeat a name');
  }
  if (m.profile !== undefined) parseReferenceProfile(m.profile);
  return m;
}
