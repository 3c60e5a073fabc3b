/**
 * The MLflow REST API 2.0 tracking dialect: existing MLflow clients
 * (`MLFLOW_TRACKING_URI=http://host:5000`) log to `trestle server` unchanged. A thin
 * translation from MLflow's field names, encodings and errors onto the core ports; all
 * state lives in the stores passed in.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { artifactRoutes, proxiedArtifactService } from './artifacts.js';
import { mlflowErrorHandler, mlflowNotFoundHandler } from './errors.js';
import { experimentRoutes } from './experiments.js';
import { parseJsonBody } from './json-body.js';
import { metricRoutes } from './metrics.js';
import { registerMlflowRoutes, type MlflowRoute, type MlflowStores } from './routes.js';
import { runRoutes } from './runs.js';
import { registryRoutes } from './registry.js';
import { loggedModelRoutes } from './logged-models.js';

export type { MlflowErrorBody } from './errors.js';
export { mlflowErrorHandler } from './errors.js';

/** Options of {@link mlflowPlugin}: the metadata store and the artifact store it translates onto. */
export type MlflowPluginOptions = MlflowStores;

/** The API roots MLflow serves everything under: the REST API and the one its web UI calls. */
export const MLFLOW_API_ROOTS = ['/api/2.0', '/ajax-api/2.0'] as const;

const MLFLOW_URL = /^\/(?:api|ajax-api)\/2\.0\/(?:mlflow|mlflow-artifacts)(?:[/?]|$)/;

/**
 * Whether a request URL belongs to the dialect (and is answered in MLflow's error shape).
 *
 * @example isMlflowUrl('/ajax-api/2.0/mlflow/runs/get?run_id=1') // true
 * @example isMlflowUrl('/api/2.0/mlflowx')                       // false
 */
export function isMlflowUrl(url: string): boolean {
  return MLFLOW_URL.test(url);
}

/** Every tracking RPC of the dialect, relative to `<root>/mlflow`. */
const MLFLOW_TRACKING_ROUTES: readonly MlflowRoute[] = [
  ...experimentRoutes,
  ...runRoutes,
  ...metricRoutes,
  ...artifactRoutes,
  ...registryRoutes,
  ...loggedModelRoutes,
];

/** Largest JSON body of a tracking RPC other than `runs/log-batch` (dataset schemas can reach 1 MB each). */
const JSON_BODY_LIMIT = 16 * 1024 * 1024;

function trackingService(app: FastifyInstance, stores: MlflowPluginOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT },
    (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  app.setNotFoundHandler(mlflowNotFoundHandler);
  registerMlflowRoutes(app, MLFLOW_TRACKING_ROUTES, stores);
  return Promise.resolve();
}

/**
 * The MLflow dialect as a Fastify plugin. Register it at the root, without a prefix and without
 * `fastify-plugin`: it keeps its own encapsulated context, with its own JSON parser (tolerant of
 * Python's bare `NaN`), error handler and not-found handler, so its answers have MLflow's shape
 * (`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "…"}`) and statuses whatever the rest
 * of the server does. It serves, under both `/api/2.0` and `/ajax-api/2.0`:
 *
 * - `/mlflow/experiments/*`, `/mlflow/runs/*`, `/mlflow/metrics/*`, `/mlflow/artifacts/*`
 *   (the tracking service of MLflow 2.x, as in MLflow's REST API reference);
 * - `/mlflow-artifacts/artifacts[/<path>]`, the proxied artifact service, streaming both ways.
 *
 * @example
 * const { metadata, artifacts } = await openStores(config);
 * await app.register(mlflowPlugin, { metadata, artifacts });
 * // MLFLOW_TRACKING_URI=http://localhost:5000 python train.py
 */
export const mlflowPlugin: FastifyPluginAsync<MlflowPluginOptions> = async (app, options) => {
  const stores: MlflowPluginOptions = { metadata: options.metadata, artifacts: options.artifacts };
  app.setErrorHandler(mlflowErrorHandler);
  for (const root of MLFLOW_API_ROOTS) {
    // A prefix per service: Fastify scopes not-found handlers to a prefix.
    await app.register((tracking) => trackingService(tracking, stores), { prefix: `${root}/mlflow` });
    await app.register((proxied) => proxiedArtifactService(proxied, { artifacts: stores.artifacts }), {
      prefix: `${root}/mlflow-artifacts`,
    });
  }
};
