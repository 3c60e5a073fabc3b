/**
 * Schemas of the model registry routes (`/api/v1/registered-models…`, `/api/v1/model-versions`,
 * `/api/v1/registry/events`, `/api/v1/datasets/:digest/lineage`) and of the event stream
 * (`/api/v1/events`). Who made a change and why travel in the `X-Trestle-Actor` (ignored when
 * the server checks tokens: the token's name is recorded) and `X-Trestle-Reason` headers, or as
 * `reason` in the bodies that take one.
 */
import { Type } from 'typebox';
import { MODEL_STAGES, MODEL_VERSION_STATUSES, REGISTRY_EVENT_TYPES } from '../registry.js';
import { EpochMs, Tag, closed } from './common.js';

/** Header naming who makes a change (servers with access control record the token's name instead). */
export const ACTOR_HEADER = 'x-trestle-actor';
/** Header with the reason for a change, recorded in the audit trail (URI-encoded). */
export const REASON_HEADER = 'x-trestle-reason';

const VersionNumber = Type.Integer({ minimum: 1, description: 'version number, from 1' });
const Reason = Type.Optional(Type.String({ maxLength: 2000, description: 'why, recorded in the audit trail' }));

/** An alias and the version it points to. */
export const ModelAlias = Type.Object({ alias: Type.String(), version: VersionNumber }, closed);

/** A registered model. */
export const RegisteredModel = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    creationTime: EpochMs,
    lastUpdatedTime: EpochMs,
    userId: Type.String(),
    tags: Type.Array(Tag),
    aliases: Type.Array(ModelAlias),
    latestVersion: Type.Integer({ minimum: 0, description: 'highest version number given (0 before the first)' }),
  },
  closed,
);

/** One version of a registered model. */
export const ModelVersion = Type.Object(
  {
    name: Type.String(),
    version: VersionNumber,
    creationTime: EpochMs,
    lastUpdatedTime: EpochMs,
    description: Type.String(),
    userId: Type.String(),
    source: Type.String({ description: 'where the package is: runs:/<run>/<path>, models:/m-<id>, a store URI' }),
    runId: Type.Optional(Type.String()),
    runLink: Type.Optional(Type.String()),
    modelId: Type.Optional(Type.String({ description: 'MLflow 3 logged model id (m-<32 hex>)' })),
    status: Type.Enum([...MODEL_VERSION_STATUSES]),
    statusMessage: Type.Optional(Type.String()),
    stage: Type.Enum([...MODEL_STAGES]),
    tags: Type.Array(Tag),
    aliases: Type.Array(Type.String()),
  },
  closed,
);

/** One change in the audit trail and on the event stream. */
export const RegistryEvent = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    type: Type.Enum([...REGISTRY_EVENT_TYPES]),
    time: EpochMs,
    actor: Type.String(),
    model: Type.String(),
    version: Type.Optional(VersionNumber),
    alias: Type.Optional(Type.String()),
    oldVersion: Type.Optional(VersionNumber),
    newVersion: Type.Optional(VersionNumber),
    reason: Type.Optional(Type.String()),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  closed,
);

/** Answer of the audit-trail routes. */
export const RegistryEventList = Type.Object({ items: Type.Array(RegistryEvent) }, closed);

/** Version → run → datasets. */
export const ModelLineage = Type.Object(
  {
    version: ModelVersion,
    run: Type.Optional(
      Type.Object(
        {
          runId: Type.String(),
          runName: Type.String(),
          experimentId: Type.String(),
          status: Type.String(),
          datasets: Type.Array(
            Type.Object(
              {
                name: Type.String(),
                digest: Type.String(),
                source: Type.String(),
                context: Type.Optional(Type.String()),
              },
              closed,
            ),
          ),
        },
        closed,
      ),
    ),
  },
  closed,
);

/** Dataset → runs → versions. */
export const DatasetLineage = Type.Object(
  {
    digest: Type.String(),
    runs: Type.Array(
      Type.Object(
        {
          runId: Type.String(),
          runName: Type.String(),
          experimentId: Type.String(),
          datasetName: Type.String(),
          context: Type.Optional(Type.String()),
        },
        closed,
      ),
    ),
    versions: Type.Array(
      Type.Object(
        { name: Type.String(), version: VersionNumber, runId: Type.String(), aliases: Type.Array(Type.String()) },
        closed,
      ),
    ),
  },
  closed,
);

/** Path parameters of `/registered-models/:name`. */
export const ModelNameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
/** Path parameters of `/registered-models/:name/tags/:key`. */
export const ModelTagParams = Type.Object({ name: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) });
/** Path parameters of `/registered-models/:name/versions/:version`. */
export const ModelVersionParams = Type.Object({
  name: Type.String({ minLength: 1 }),
  version: Type.Integer({ minimum: 1 }),
});
/** Path parameters of `/registered-models/:name/versions/:version/tags/:key`. */
export const ModelVersionTagParams = Type.Object({
  name: Type.String({ minLength: 1 }),
  version: Type.Integer({ minimum: 1 }),
  key: Type.String({ minLength: 1 }),
});
/** Path parameters of `/registered-models/:name/aliases/:alias`. */
export const ModelAliasParams = Type.Object({
  name: Type.String({ minLength: 1 }),
  alias: Type.String({ minLength: 1 }),
});
/** Path parameters of `/datasets/:digest/lineage`. */
export const DigestParams = Type.Object({ digest: Type.String({ minLength: 1 }) });

/** Body of `POST /registered-models`. */
export const CreateRegisteredModelBody = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(Tag)),
  },
  closed,
);

/** Body of `PATCH /registered-models/:name`: a new description and/or a new name. */
export const UpdateRegisteredModelBody = Type.Object(
  { description: Type.Optional(Type.String()), name: Type.Optional(Type.String({ minLength: 1 })) },
  closed,
);

/** Query of the registry searches. */
export const SearchRegistryQuery = Type.Object(
  {
    filter: Type.Optional(
      Type.String({ description: "e.g. name LIKE 'fraud%' AND tags.team = 'risk' (OR and parentheses allowed)" }),
    ),
    orderBy: Type.Optional(Type.Array(Type.String())),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 50_000 })),
    pageToken: Type.Optional(Type.String()),
  },
  closed,
);

/** Body of `POST /registered-models/:name/versions`: registers the next version, atomically. */
export const CreateModelVersionBody = Type.Object(
  {
    source: Type.String({ minLength: 1 }),
    runId: Type.Optional(Type.String({ minLength: 1 })),
    runLink: Type.Optional(Type.String()),
    modelId: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(Tag)),
    status: Type.Optional(Type.Enum([...MODEL_VERSION_STATUSES])),
    statusMessage: Type.Optional(Type.String()),
    createModel: Type.Optional(Type.Boolean({ description: 'create the registered model if missing' })),
    aliases: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  closed,
);

/** Body of `PATCH /registered-models/:name/versions/:version`. */
export const UpdateModelVersionBody = Type.Object(
  {
    description: Type.Optional(Type.String()),
    status: Type.Optional(Type.Enum([...MODEL_VERSION_STATUSES])),
    statusMessage: Type.Optional(Type.String()),
    stage: Type.Optional(Type.Enum([...MODEL_STAGES])),
  },
  closed,
);

/** Body of `PUT /registered-models/:name/aliases/:alias`. */
export const SetAliasBody = Type.Object({ version: Type.Integer({ minimum: 1 }), reason: Reason }, closed);

/** Body of `POST /registered-models/:name/aliases/:alias/rollback`. */
export const RollbackAliasBody = Type.Object({ reason: Reason }, closed);

/** Query of `DELETE /registered-models/:name/aliases/:alias`. */
export const DeleteAliasQuery = Type.Object({ reason: Reason }, closed);

/** Query of the audit-trail routes (`/registry/events`, `/registered-models/:name/history`). */
export const ListEventsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'only events after this id' })),
    model: Type.Optional(Type.String({ minLength: 1 })),
    types: Type.Optional(Type.Array(Type.Enum([...REGISTRY_EVENT_TYPES]))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    order: Type.Optional(Type.Enum(['asc', 'desc'])),
  },
  closed,
);

/** Query of `GET /events` (server-sent events). */
export const EventStreamQuery = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'start after this id (else Last-Event-ID, else from now)' }),
    ),
    model: Type.Optional(Type.String({ minLength: 1, description: 'only events of this model (name at the time)' })),
    types: Type.Optional(Type.Array(Type.Enum([...REGISTRY_EVENT_TYPES]))),
  },
  closed,
);
