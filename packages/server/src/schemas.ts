/**
 * TypeBox schemas of the Trestle REST API v1: one schema per entity and input, giving request
 * validation, the TypeScript type (`Static<typeof X>`) and the OpenAPI document at once.
 * Field names are the core types' own (camelCase). Request schemas refuse unknown fields.
 *
 * The one place the wire differs from the core types is a metric value: JSON has no NaN or
 * ±Infinity, so those travel as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (see
 * `wire.ts`).
 *
 * @example
 * app.post('/experiments', { schema: { body: CreateExperimentBody, response: { 201: Experiment } } }, handler);
 */
import type {
  CreateRunInput as CoreCreateRunInput,
  Dataset as CoreDataset,
  ErrorCode,
  Experiment as CoreExperiment,
  RunInfo as CoreRunInfo,
  SearchExperimentsOptions,
  UpdateRunInput as CoreUpdateRunInput,
} from '@trestle/core';
import { ERROR_CODES, RUN_STATUSES } from '@trestle/core';
import { Type, type Static, type TSchema } from 'typebox';

const closed = { additionalProperties: false } as const;

/** Largest page a search may ask for (as the store enforces). */
export const MAX_PAGE_SIZE = 50_000;

/** Epoch milliseconds. */
const EpochMs = Type.Integer({ description: 'epoch milliseconds' });

/** A key/value string pair (tags of experiments, runs and dataset inputs). */
export const Tag = Type.Object({ key: Type.String({ minLength: 1 }), value: Type.String() }, closed);

/** `active` or `deleted` (soft-deleted, restorable). */
export const LifecycleStage = Type.Enum(['active', 'deleted']);

/** Which lifecycle stages a search returns. */
export const ViewType = Type.Enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'], { description: 'default ACTIVE_ONLY' });

/** Run status, with MLflow's names. */
export const RunStatus = Type.Enum([...RUN_STATUSES]);

/** A named group of runs. */
export const Experiment = Type.Object(
  {
    experimentId: Type.String(),
    name: Type.String(),
    artifactLocation: Type.String(),
    lifecycleStage: LifecycleStage,
    creationTime: EpochMs,
    lastUpdateTime: EpochMs,
    tags: Type.Array(Tag),
  },
  closed,
);

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

/** One page of results; `nextPageToken` is absent on the last page. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextPageToken: Type.Optional(Type.String({ description: 'pass as pageToken to get the next page' })),
    },
    closed,
  );
}

/** What a completed artifact upload recorded. `path` is relative to the run's artifact root. */
export const ArtifactInfo = Type.Object(
  {
    path: Type.String(),
    size: Type.Integer({ description: 'bytes' }),
    sha256: Type.String({ description: 'hex SHA-256' }),
  },
  closed,
);

/** One entry of an artifact listing; `path` is relative to the run's artifact root. */
export const ArtifactEntry = Type.Object(
  {
    path: Type.String(),
    isDir: Type.Boolean(),
    size: Type.Optional(Type.Integer({ description: 'bytes; absent for directories' })),
  },
  closed,
);

/** The body of every error response. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum([...ERROR_CODES]),
        message: Type.String(),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      closed,
    ),
  },
  closed,
);

/** Response schemas shared by every route: errors as {@link ErrorBody}. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;

// ---- inputs ----------------------------------------------------------------------------

/** Body of `POST /experiments`. */
export const CreateExperimentBody = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    artifactLocation: Type.Optional(Type.String({ minLength: 1 })),
    tags: Type.Optional(Type.Array(Tag)),
  },
  closed,
);

const PageSize = Type.Integer({
  minimum: 1,
  maximum: MAX_PAGE_SIZE,
  description: `page size, at most ${MAX_PAGE_SIZE}`,
});
const OrderBy = Type.Array(Type.String(), {
  description: "clauses such as 'name ASC' (repeat the parameter for several)",
});

/** Ordering, paging and lifecycle fields shared by the experiment and run searches. */
const searchPaging = {
  orderBy: Type.Optional(OrderBy),
  maxResults: Type.Optional(PageSize),
  pageToken: Type.Optional(Type.String()),
  viewType: Type.Optional(ViewType),
};

/** Query of `GET /experiments`. */
export const SearchExperimentsQuery = Type.Object(
  {
    filter: Type.Optional(
      Type.String({ description: "e.g. name LIKE 'fraud%' AND tags.team = 'risk' (OR and parentheses allowed)" }),
    ),
    ...searchPaging,
  },
  closed,
);

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

/** Body of `POST /runs/:runId/batch`: metrics, params and tags written in one transaction. */
export const LogBatchInput = Type.Object(
  {
    metrics: Type.Optional(Type.Array(MetricInput)),
    params: Type.Optional(Type.Array(Param)),
    tags: Type.Optional(Type.Array(Tag)),
  },
  closed,
);

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

/** A tag value in `PUT …/tags/:key`. */
export const TagValueBody = Type.Object({ value: Type.String() }, closed);

// ---- compile-time checks that the schemas describe the core types --------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T | undefined => undefined;
agree<Same<Static<typeof Experiment>, CoreExperiment>>();
agree<Same<Static<typeof RunInfo>, CoreRunInfo>>();
agree<Same<Static<typeof Dataset>, CoreDataset>>();
agree<Same<Static<typeof CreateRunInput>, CoreCreateRunInput>>();
agree<Same<Static<typeof UpdateRunInput>, CoreUpdateRunInput>>();
agree<Same<Static<typeof SearchExperimentsQuery>, SearchExperimentsOptions>>();
agree<Same<Static<typeof ErrorBody>['error']['code'], ErrorCode>>();
