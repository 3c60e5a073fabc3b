import { TrestleError } from './errors.js';

/**
 * Trestle's configuration, parsed once (flags > environment > defaults), frozen and passed down.
 * Relative paths are resolved by the caller against the working directory.
 */
export interface TrestleConfig {
  /** Folder for embedded state. Env `TRESTLE_HOME`; default `.trestle`. */
  readonly home: string;
  /** Metadata store URI: a SQLite file path or `postgres://…`. Env `TRESTLE_DB`; default `<home>/trestle.db`. */
  readonly db: string;
  /** Artifact store root: a folder or `s3://bucket/prefix`. Env `TRESTLE_ARTIFACTS`; default `<home>/artifacts`. */
  readonly artifacts: string;
  /** S3 endpoint override (MinIO and friends). Env `TRESTLE_S3_ENDPOINT`; default AWS. */
  readonly s3Endpoint: string | undefined;
  /** A Trestle server to log to instead of the embedded store. Env `TRESTLE_TRACKING_URI`; default none. */
  readonly trackingUri: string | undefined;
  /** API token sent to the tracking server. Env `TRESTLE_TRACKING_TOKEN`; default none. */
  readonly trackingToken: string | undefined;
  /** Default experiment name for the SDK. Env `TRESTLE_EXPERIMENT`; default `Default`. */
  readonly experiment: string;
  /** Data remote for `trestle data push|pull` and queue workers: a folder or `s3://bucket/prefix`. Env `TRESTLE_REMOTE`; default none. */
  readonly remote: string | undefined;
  /** Job queue for pipeline stages, `redis://host:6379`; default none (stages run in this process's children). Env `TRESTLE_QUEUE`. */
  readonly queue: string | undefined;
}

/** One row of the configuration table: setting, env var, default, meaning (used by README and `--help`). */
export const CONFIG_SETTINGS = [
  { key: 'home', env: 'TRESTLE_HOME', default: '.trestle', doc: 'folder for the embedded store and artifacts' },
  { key: 'db', env: 'TRESTLE_DB', default: '<home>/trestle.db', doc: 'metadata store: SQLite file or postgres:// URI' },
  {
    key: 'artifacts',
    env: 'TRESTLE_ARTIFACTS',
    default: '<home>/artifacts',
    doc: 'artifact store: folder or s3://bucket/prefix',
  },
  {
    key: 's3Endpoint',
    env: 'TRESTLE_S3_ENDPOINT',
    default: '(AWS)',
    doc: 'S3 endpoint for MinIO and other S3-compatible stores',
  },
  { key: 'trackingUri', env: 'TRESTLE_TRACKING_URI', default: '(embedded)', doc: 'Trestle server URL to log to' },
  {
    key: 'trackingToken',
    env: 'TRESTLE_TRACKING_TOKEN',
    default: '(none)',
    doc: 'API token for a server started with --auth',
  },
  { key: 'experiment', env: 'TRESTLE_EXPERIMENT', default: 'Default', doc: 'experiment used when none is named' },
  { key: 'remote', env: 'TRESTLE_REMOTE', default: '(none)', doc: 'data remote: folder or s3://bucket/prefix' },
  { key: 'queue', env: 'TRESTLE_QUEUE', default: '(in process)', doc: 'pipeline job queue: redis://host:6379' },
] as const;

type Overrides = Partial<Record<keyof TrestleConfig, string | undefined>>;

/**
 * Builds the configuration from flag overrides and an environment (pass `process.env`).
 *
 * @example loadConfig({ db: argv.db }, process.env)
 */
export function loadConfig(overrides: Overrides = {}, env: Record<string, string | undefined> = {}): TrestleConfig {
  const pick = (key: keyof TrestleConfig, envName: string): string | undefined => {
    const v = overrides[key] ?? env[envName];
    return v === undefined || v === '' ? undefined : v;
  };
  const home = pick('home', 'TRESTLE_HOME') ?? '.trestle';
  const trackingUri = pick('trackingUri', 'TRESTLE_TRACKING_URI');
  if (trackingUri !== undefined && !/^https?:\/\//.test(trackingUri)) {
    throw new TrestleError('INVALID_ARGUMENT', `TRESTLE_TRACKING_URI must be an http(s):// URL, got '${trackingUri}'`);
  }
  return Object.freeze({
    home,
    db: pick('db', 'TRESTLE_DB') ?? `${home}/trestle.db`,
    artifacts: pick('artifacts', 'TRESTLE_ARTIFACTS') ?? `${home}/artifacts`,
    s3Endpoint: pick('s3Endpoint', 'TRESTLE_S3_ENDPOINT'),
    trackingUri,
    trackingToken: pick('trackingToken', 'TRESTLE_TRACKING_TOKEN'),
    experiment: pick('experiment', 'TRESTLE_EXPERIMENT') ?? 'Default',
    remote: pick('remote', 'TRESTLE_REMOTE'),
    queue: pick('queue', 'TRESTLE_QUEUE'),
  });
}
