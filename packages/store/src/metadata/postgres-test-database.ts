/**
 * Throwaway PostgreSQL databases for tests and benchmarks: each suite creates its own
 * `trestle_t_<random>` database over a connection to the base URI's database and drops it
 * afterwards, so test files running in parallel never share tables.
 */
import { randomBytes } from 'node:crypto';

/** The PostgreSQL tests and benchmarks use unless `TRESTLE_TEST_PG` says otherwise. */
const DEFAULT_TEST_POSTGRES_URI = 'postgres://postgres@127.0.0.1:5432/test';

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

/** Whether a file's PostgreSQL tests run, from {@link postgresTests}. */
export interface PostgresTests {
  /** Register the PostgreSQL suite: the server answers, or CI requires it (then it fails loudly). */
  run: boolean;
  baseUri: string;
  /** Throws in CI when the server is not reachable; call it first in the suite's setup. */
  assertReachable(): void;
}

/**
 * The one rule for PostgreSQL tests: they run when the server answers; outside CI an
 * unreachable server skips them, printing why; in CI (`CI=true`) they run and fail, naming the
 * server and how to fix it.
 *
 * @example
 * const pg = await postgresTests('the PostgreSQL registry tests');
 * if (pg.run) registryStoreContract('postgres', async () => { pg.assertReachable(); … });
 */
export async function postgresTests(
  what: string,
  env: Record<string, string | undefined> = process.env,
): Promise<PostgresTests> {
  const baseUri = testPostgresUri(env);
  const unavailable = await postgresUnavailable(baseUri);
  const inCi = env['CI'] === 'true';
  if (unavailable !== undefined && !inCi)
    console.warn(`skipping ${what}: ${unavailable} (set TRESTLE_TEST_PG to point at a server)`);
  return {
    run: unavailable === undefined || inCi,
    baseUri,
    assertReachable: () => {
      if (unavailable !== undefined)
        throw new Error(`CI=true but ${unavailable}: start PostgreSQL or set TRESTLE_TEST_PG`);
    },
  };
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
