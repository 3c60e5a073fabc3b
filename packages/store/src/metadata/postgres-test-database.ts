/**
 * Throwaway PostgreSQL databases for tests and benchmarks: each suite creates its own
 * `trestle_t_<random>` database over a connection to the base URI's database and drops it
 * afterwards, so test files running in parallel never share tables.
 */
import { randomBytes } from 'node:crypto';

/** The PostgreSQL tests and benchmarks use unless `TRESTLE_TEST_PG` says otherwise. */
export const DEFAULT_TEST_POSTGRES_URI = 'postgres://postgres@127.0.0.1:5432/test';

/** A database created for one suite. */
export interface TestDatabase {
  /** URI of the new database. */
  readonly uri: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/** The base URI from `env.TRESTLE_TEST_PG`, else {@link DEFAULT_TEST_POSTGRES_URI}. */
export function testPostgresUri(env: Record<string, string | undefined> = process.env): string {
  const v = env['TRESTLE_TEST_PG'];
  return v === undefined || v === '' ? DEFAULT_TEST_POSTGRES_URI : v;
}

async function withClient<T>(uri: string, fn: (query: (text: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn((text) => client.query(text));
  } finally {
    await client.end();
  }
}

/**
 * Why PostgreSQL at `baseUri` cannot be used, or `undefined` when it can.
 *
 * @example const reason = await postgresUnavailable(testPostgresUri());
 */
export async function postgresUnavailable(baseUri: string): Promise<string | undefined> {
  try {
    await withClient(baseUri, (query) => query('select 1'));
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${baseUri.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@')} is not reachable (${err instanceof Error ? err.message || err.name : String(err)})`;
  }
}

/**
 * Creates a fresh, empty database next to the one `baseUri` names.
 *
 * @example
 * const db = await createTestDatabase(testPostgresUri());
 * const store = await openMetadataStore(db.uri);
 * // …
 * await store.close(); await db.drop();
 */
export async function createTestDatabase(baseUri: string): Promise<TestDatabase> {
  const name = `trestle_t_${randomBytes(6).toString('hex')}`;
  await withClient(baseUri, (query) => query(`CREATE DATABASE ${name}`));
  const url = new URL(baseUri);
  url.pathname = `/${name}`;
  return {
    uri: url.toString(),
    drop: () =>
      withClient(baseUri, (query) => query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
