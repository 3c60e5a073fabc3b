/** Schemas of the artifact routes (`/api/v1/runs/:runId/artifacts…`). */
import { Type } from 'typebox';
import { closed } from './common.js';

/**
 * Header with the hex SHA-256 of an artifact's content: on a download, what the store
 * recorded; on an upload, what the client computed (the server refuses a mismatch with 400
 * and keeps the old file).
 */
export const CHECKSUM_HEADER = 'x-checksum-sha256';

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

/** Query of `GET /runs/:runId/artifacts`. */
export const ArtifactListQuery = Type.Object(
  {
    path: Type.Optional(Type.String({ description: "folder relative to the run's artifact root; default the root" })),
  },
  closed,
);

/** Answer of `GET /runs/:runId/artifacts`. */
export const ArtifactList = Type.Object({ items: Type.Array(ArtifactEntry) }, closed);
