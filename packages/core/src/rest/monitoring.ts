/**
 * Schemas of the monitoring routes (contract 4): serving ships inference logs and window
 * summaries, anyone ships feedback labels; results come back per model version and alias.
 * A window summary and a reference profile are `@trestle/monitoring` documents: here they are
 * objects checked for their `format`; the server validates them in full with that package.
 */
import { Type } from 'typebox';
import { EpochMs, closed } from './common.js';

/** Epoch ms within the range of a JavaScript Date (a safe integer), so that it is stored exactly. */
const Time = Type.Integer({ minimum: -8.64e15, maximum: 8.64e15, description: 'epoch milliseconds' });

/** Largest batch of inference records or feedback records in one request. */
export const MAX_MONITORING_BATCH = 10_000;

/** The model version traffic was served by, and the alias it was served as. */
export const MonitoredModel = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 500 }),
    version: Type.String({ minLength: 1, maxLength: 100 }),
    alias: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  closed,
);

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
/** Inputs and outputs by name: scalars or flat lists of them (deeper nesting is refused). */
const Values = Type.Record(Type.String(), Type.Union([Scalar, Type.Array(Scalar)]));

/** One logged prediction. */
export const InferenceLogRecord = Type.Object(
  {
    requestId: Type.String({ minLength: 1, maxLength: 200 }),
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'a business key feedback may use' })),
    time: Time,
    inputs: Values,
    outputs: Values,
    latencyMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  closed,
);

/**
 * A value of a column of logged predictions: a scalar or a flat list of them. Written as one
 * JSON-schema type list rather than a union: it validates several times faster, and a batch
 * holds tens of thousands of values.
 */
const Cell = Type.Unsafe<string | number | boolean | null | (string | number | boolean | null)[]>({
  type: ['string', 'number', 'boolean', 'null', 'array'],
  items: { type: ['string', 'number', 'boolean', 'null'] },
});

/** Logged predictions as columns: value `i` of every array belongs to `requestIds[i]` (how serving ships them). */
export const InferenceLogColumns = Type.Object(
  {
    requestIds: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: MAX_MONITORING_BATCH }),
    times: Type.Array(Time),
    latencyMs: Type.Optional(Type.Array(Type.Union([Type.Number({ minimum: 0 }), Type.Null()]))),
    keys: Type.Optional(
      Type.Array(Type.Union([Type.String({ minLength: 1, maxLength: 500 }), Type.Null()]), {
        description: 'business keys feedback may use',
      }),
    ),
    inputs: Type.Record(Type.String(), Type.Array(Cell)),
    outputs: Type.Record(Type.String(), Type.Array(Cell)),
  },
  closed,
);

/** Body of `POST /inference-logs`: predictions as `records` (one object each) or as `columns` (cheaper to build, send and store). */
export const InferenceLogsBody = Type.Object(
  {
    model: MonitoredModel,
    records: Type.Optional(Type.Array(InferenceLogRecord, { maxItems: MAX_MONITORING_BATCH })),
    columns: Type.Optional(InferenceLogColumns),
  },
  closed,
);

/** Answer of `POST /inference-logs`. */
export const InferenceLogsAnswer = Type.Object(
  {
    accepted: Type.Integer({ minimum: 0 }),
    duplicates: Type.Integer({ minimum: 0, description: 'request ids already logged for this model version' }),
    joined: Type.Optional(
      Type.Integer({ minimum: 0, description: 'labels that were waiting for these predictions, now joined' }),
    ),
  },
  closed,
);

const JsonDocument = (format: string, description: string) =>
  Type.Object({ format: Type.Literal(format) }, { additionalProperties: true, description });

/** Body of `POST /inference-windows`. */
export const InferenceWindowBody = Type.Object(
  {
    model: MonitoredModel,
    start: Time,
    end: Time,
    summary: JsonDocument('trestle.window-summary', 'a @trestle/monitoring WindowSummary on the reference bins'),
  },
  closed,
);

/** Answer of `POST /inference-windows`. */
export const InferenceWindowAnswer = Type.Object({ rows: Type.Integer({ minimum: 0 }) }, closed);

/** One label. */
export const FeedbackRecord = Type.Object(
  {
    requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    label: Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
    time: Type.Optional(Time),
  },
  closed,
);

/** Body of `POST /feedback`. */
export const FeedbackBody = Type.Object(
  { records: Type.Array(FeedbackRecord, { maxItems: MAX_MONITORING_BATCH }) },
  closed,
);

/** Answer of `POST /feedback`: what was joined, what matched nothing, what was refused. */
export const FeedbackAnswer = Type.Object(
  {
    matched: Type.Integer({ minimum: 0, description: 'labels joined to a logged prediction' }),
    unknown: Type.Integer({ minimum: 0, description: 'labels whose request id or key matched no logged prediction' }),
    pending: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'of the unknown, labels held until their prediction is logged (then joined; kept 7 days)',
      }),
    ),
    unknownIds: Type.Array(Type.String(), { description: 'the first of them (up to 20)' }),
    invalid: Type.Integer({ minimum: 0, description: 'labels refused (wrong type for the model, no id)' }),
    errors: Type.Array(Type.String(), { description: 'why, for the first of them (up to 20)' }),
  },
  closed,
);

/** Body of `PUT /monitoring/references/:name/:version`. */
export const ReferenceBody = Type.Object(
  { profile: JsonDocument('trestle.reference-profile', 'a @trestle/monitoring ReferenceProfile') },
  closed,
);

/** Path of a model's monitoring routes. */
export const MonitoredModelParams = Type.Object({ name: Type.String({ minLength: 1 }) });
export const MonitoredVersionParams = Type.Object({
  name: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
});

/** Query of the results and status routes. */
export const MonitorResultsQuery = Type.Object(
  {
    version: Type.Optional(Type.String({ minLength: 1 })),
    alias: Type.Optional(Type.String({ minLength: 1 })),
    since: Type.Optional(Time),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  closed,
);

/** The result of one window (drift, quality and performance are `@trestle/monitoring` documents). */
export const MonitorResult = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    alias: Type.Union([Type.String(), Type.Null()]),
    start: EpochMs,
    end: EpochMs,
    computedTime: EpochMs,
    rows: Type.Integer({ minimum: 0 }),
    labelled: Type.Integer({ minimum: 0 }),
    driftShare: Type.Union([Type.Number(), Type.Null()]),
    datasetDrift: Type.Boolean(),
    drift: Type.Unknown({ description: 'DatasetDrift' }),
    quality: Type.Unknown({ description: 'WindowQuality' }),
    performance: Type.Unknown({ description: 'Performance, or null without labels' }),
    error: Type.Optional(Type.String()),
  },
  closed,
);

/** Answer of `GET /monitoring/models/:name/results`. */
export const MonitorResultList = Type.Object({ items: Type.Array(MonitorResult) }, closed);

/** Answer of `POST /monitoring/models/:name/run`. */
export const MonitorRunAnswer = Type.Object(
  { computed: Type.Integer({ minimum: 0 }), items: Type.Array(MonitorResult) },
  closed,
);
