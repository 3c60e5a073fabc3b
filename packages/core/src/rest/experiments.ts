/** Schemas of the experiment routes (`/api/v1/experiments…`). */
import { Type } from 'typebox';
import { EpochMs, LifecycleStage, Tag, closed, searchPaging } from './common.js';

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

/** Path parameters of `/experiments/:experimentId`. */
export const ExperimentIdParams = Type.Object({ experimentId: Type.String({ minLength: 1 }) });

/** Answer of `GET /experiments/:experimentId/run-keys`: the keys of its active runs, each list sorted. */
export const RunKeys = Type.Object(
  { params: Type.Array(Type.String()), metrics: Type.Array(Type.String()), tags: Type.Array(Type.String()) },
  closed,
);

/** Path parameters of `/experiments/:experimentId/tags/:key`. */
export const ExperimentTagParams = Type.Object({
  experimentId: Type.String({ minLength: 1 }),
  key: Type.String({ minLength: 1 }),
});

/** Path parameters of `/experiments/by-name/:name`. */
export const ExperimentNameParams = Type.Object({ name: Type.String({ minLength: 1 }) });

/** Body of `POST /experiments`. */
export const CreateExperimentBody = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    artifactLocation: Type.Optional(Type.String({ minLength: 1 })),
    tags: Type.Optional(Type.Array(Tag)),
  },
  closed,
);

/** Body of `PATCH /experiments/:experimentId` (rename). */
export const RenameExperimentBody = Type.Object({ name: Type.String({ minLength: 1 }) }, closed);

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
