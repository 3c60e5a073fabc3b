import type { SqlDialect } from '../dialects.js';

/** What a migration may depend on besides the database: the dialect helpers and store settings. */
export interface MigrationContext {
  readonly dialect: SqlDialect;
  /** Absolute artifact root (a path or a URI) for the default experiment's artifact location. */
  readonly artifactRoot: string;
  /** Epoch ms; injectable for tests. */
  readonly now: () => number;
}
