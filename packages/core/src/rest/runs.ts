/** Schemas of the run routes (`/api/v1/runs…`) and of the entities they carry. */
import { Type } from 'typebox';
import { EpochMs, LifecycleStage, RunStatus, Tag, closed, searchPaging } from './common.js';

/**
 * A metric value on the wire: a JSON number, or one of the strings `"NaN"`, `"Infinity"`,
 * `"-Infinity"` for the values JSON cannot carry. Accepted the same way in requests.
 */
export const MetricValue = Type.Union(
  [Type.Number(), Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')],
  { description: 'a number, or "NaN", "Infinity" or "-Infinity" for non-finite values (JSON has no literal for them)' },
);

/** One point of a metric's history, as sent and received over HTTP. */
export const Metric = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    value: MetricValue,
    timestamp: EpochMs,
    step: Type.Integer({ description: 'training step; 0 when absent in a request' }),
  },
  closed,
);

/** A metric point in a request: `step` may be left out (0). */
export const MetricInput = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    value: MetricValue,
    timestamp: EpochMs,
    step: Type.Optional(Type.Integer({ description: 'training step; default 0' })),
  },
  closed,
);

/** A run parameter (immutable once logged). */
export const Param = Type.Object({ key: Type.String({ minLength: 1 }), value: Type.String() }, closed);

/** Run metadata. `endTime` is null while the run is going. */
export const RunInfo = Type.Object(
  {
    runId: Type.String(),
    runName: Type.String(),
    experimentId: Type.String(),
    userId: Type.String(),
    status: RunStatus,
    startTime: EpochMs,
    endTime: Type.Union([EpochMs, Type.Null()]),
    artifactUri: Type.String(),
    lifecycleStage: LifecycleStage,
  },
  closed,
);

/** A dataset version, identified by name and content digest. */
export const Dataset = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    digest: Type.String({ minLength: 1 }),
    sourceType: Type.String(),
    source: Type.String(),
    schema: Type.Optional(Type.String({ description: 'JSON text' })),
    profile: Type.Optional(Type.String({ description: 'JSON text' })),
  },
  closed,
);

/** A dataset as read by a run, with input tags such as `mlflow.data.context`. */
export const DatasetInput = Type.Object({ dataset: Dataset, tags: Type.Array(Tag) }, closed);

/** A run: its info, what it logged (latest value per metric) and the datasets it read. */
export const Run = Type.Object(
  {
    info: RunInfo,
    data: Type.Object({ metrics: Type.Array(Metric), params: Type.Array(Param), tags: Type.Array(Tag) }, closed),
    inputs: Type.Object({ datasetInputs: Type.Array(DatasetInput) }, closed),
  },
  closed,
);

/** Path parameters of `/runs/:runId`. */
export const RunIdParams = Type.Object({ runId: Type.String({ minLength: 1 }) });

/** Path parameters of `/runs/:runId/tags/:key` and `/runs/:runId/metrics/:key/…`. */
export const RunKeyParams = Type.Object({ runId: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) });

/** Body of `POST /runs`. */
export const CreateRunInput = Type.Object(
  {
    experimentId: Type.String({ minLength: 1 }),
    runName: Type.Optional(Type.String({ minLength: 1 })),
    startTime: Type.Optional(EpochMs),
    tags: Type.Optional(Type.Array(Tag)),
    userId: Type.Optional(Type.String()),
    parentRunId: Type.Optional(Type.String({ minLength: 1 })),
  },
  closed,
);

/** Body of `PATCH /runs/:runId`; absent fields are left unchanged. */
export const UpdateRunInput = Type.Object(
  {
    status: Type.Optional(RunStatus),
    endTime: Type.Optional(EpochMs),
    runName: Type.Optional(Type.String({ minLength: 1 })),
  },
  closed,
);

/** Answer of `POST /runs/:runId/kill`: whether the run was still running, and its info now. */
export const KillRunResult = Type.Object({ killed: Type.Boolean(), run: RunInfo }, closed);

/** Body of `POST /runs/:runId/batch`: metrics, params and tags written in one transaction. */
export const LogBatchInput = Type.Object(
  {
    metrics: Type.Optional(Type.Array(MetricInput)),
    params: Type.Optional(Type.Array(Param)),
    tags: Type.Optional(Type.Array(Tag)),
  },
  closed,
);

/** Body of `POST /runs/:runId/inputs`. */
export const LogInputsBody = Type.Object({ inputs: Type.Array(DatasetInput) }, closed);

/** Body of `POST /runs/search`. */
export const SearchRunsBody = Type.Object(
  {
    experimentIds: Type.Array(Type.String(), { minItems: 1 }),
    filter: Type.Optional(
      Type.String({ description: "e.g. metrics.auc > 0.7 AND (params.l2 = '0.1' OR tags.team = 'ops')" }),
    ),
    ...searchPaging,
  },
  closed,
);

/** Most runs one compare request may name. */
export const MAX_COMPARED_RUNS = 100;

/** Body of `POST /runs/compare`. */
export const CompareRunsBody = Type.Object(
  { runIds: Type.Array(Type.String({ minLength: 1 }), { minItems: 2, maxItems: MAX_COMPARED_RUNS }) },
  closed,
);

/** Answer of `POST /runs/compare`: the runs, and per key one value per run (null where it lacks it). */
export const RunComparison = Type.Object(
  {
    runs: Type.Array(Run),
    params: Type.Array(
      Type.Object(
        { key: Type.String(), values: Type.Array(Type.Union([Type.String(), Type.Null()])), differs: Type.Boolean() },
        closed,
      ),
    ),
    metrics: Type.Array(
      Type.Object(
        { key: Type.String(), values: Type.Array(Type.Union([MetricValue, Type.Null()])), differs: Type.Boolean() },
        closed,
      ),
    ),
  },
  closed,
);
