/**
 * The MLflow REST API 2.0 tracking dialect: existing MLflow clients
 * (`MLFLOW_TRACKING_URI=http://host:5000`) log to `trestle server` unchanged. A thin
 * translation from MLflow's field names, encodings and errors onto the core ports; all
 * state lives in the stores passed in.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { artifactRoutes, getArtifactRoute, proxiedArtifactService } from './artifacts.js';
import { mlflowErrorHandler, mlflowNotFoundHandler } from './errors.js';
import { experimentRoutes } from './experiments.js';
import { metricRoutes } from './metrics.js';
import {
  readMlflowJsonBodies,
  registerMlflowRoutes,
  type MlflowApiVersion,
  type MlflowContext,
  type MlflowRoute,
  type MlflowStores,
} from './routes.js';
import { ArtifactLocations } from './artifact-locations.js';
import type { OpenArtifactStoreOptions } from '@trestle/store';
import { runRoutes } from './runs.js';
import { registryRoutes } from './registry.js';
import { loggedModelRoutes } from './logged-models.js';
import { traceRoutes } from './traces.js';
import { graphqlService } from './graphql.js';

export { mlflowErrorHandler } from './errors.js';

/** Options of {@link mlflowPlugin}: the metadata store and the artifact store it translates onto. */
export interface MlflowPluginOptions extends MlflowStores {
  /**
   * The server's S3 settings, when it has S3 configured: experiments may then be created with
   * an `s3://` `artifact_location`, read with these settings. Without them such a location is
   * refused (400), unless the server's own artifact store is on S3.
   */
  s3?: OpenArtifactStoreOptions | undefined;
}

/** The API roots MLflow serves its 2.0 endpoints under: the REST API and the one its web UI calls. */
export const MLFLOW_API_ROOTS = ['/api/2.0', '/ajax-api/2.0'] as const;

/** The roots of MLflow 3's endpoints (`since 3.0` in its protos: traces v3). */
export const MLFLOW_V3_API_ROOTS = ['/api/3.0', '/ajax-api/3.0'] as const;

const MLFLOW_URL =
  /^\/(?:(?:api|ajax-api)\/(?:2\.0\/(?:mlflow|mlflow-artifacts)|3\.0\/mlflow)(?:[/?]|$)|(?:get-artifact|graphql)(?:\?|$))/;

/**
 * Whether a request URL belongs to the dialect (and is answered in MLflow's error shape).
 *
 * @example isMlflowUrl('/ajax-api/2.0/mlflow/runs/get?run_id=1') // true
 * @example isMlflowUrl('/api/3.0/mlflow/traces/search')          // true
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
  ...traceRoutes,
];

function routesOf(version: MlflowApiVersion): MlflowRoute[] {
  return MLFLOW_TRACKING_ROUTES.filter((route) => (route.versions ?? ['2.0']).includes(version));
}

/** Largest JSON body of a tracking RPC other than `runs/log-batch` (dataset schemas can reach 1 MB each). */
const JSON_BODY_LIMIT = 16 * 1024 * 1024;

function trackingService(app: FastifyInstance, stores: MlflowContext, routes: readonly MlflowRoute[]): Promise<void> {
  readMlflowJsonBodies(app, JSON_BODY_LIMIT);
  app.setNotFoundHandler(mlflowNotFoundHandler);
  registerMlflowRoutes(app, routes, stores);
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
 * - `/mlflow-artifacts/artifacts[/<path>]`, the proxied artifact service, streaming both ways;
 * - under `/api/3.0` and `/ajax-api/3.0`, MLflow 3's trace endpoints (`/mlflow/traces…`);
 * - at the root, the web UI's `/get-artifact` and `/graphql` (see `graphql.ts` for what it answers).
 *
 * @example
 * const { metadata, artifacts } = await openStores(config);
 * await app.register(mlflowPlugin, { metadata, artifacts });
 * // MLFLOW_TRACKING_URI=http://localhost:5000 python train.py
 */
export const mlflowPlugin: FastifyPluginAsync<MlflowPluginOptions> = async (app, options) => {
  const locations = new ArtifactLocations(options.artifacts, { s3: options.s3 });
  app.addHook('onClose', () => locations.close());
  const stores: MlflowContext = { metadata: options.metadata, artifacts: options.artifacts, locations };
  app.setErrorHandler(mlflowErrorHandler);
  for (const root of MLFLOW_API_ROOTS) {
    // A prefix per service: Fastify scopes not-found handlers to a prefix.
    await app.register((tracking) => trackingService(tracking, stores, routesOf('2.0')), {
      prefix: `${root}/mlflow`,
    });
    await app.register((proxied) => proxiedArtifactService(proxied, { artifacts: stores.artifacts }), {
      prefix: `${root}/mlflow-artifacts`,
    });
  }
  for (const root of MLFLOW_V3_API_ROOTS) {
    await app.register((tracking) => trackingService(tracking, stores, routesOf('3.0')), {
      prefix: `${root}/mlflow`,
    });
  }
  getArtifactRoute(app, stores);
  await app.register((graphql) => graphqlService(graphql, routesOf('2.0'), stores));
  // Recent MLflow 3 clients also send each span to the OTLP endpoint; this answer (MLflow's own
  // for stores without span logging) makes them stop and keep uploading whole traces.
  app.post('/v1/traces', { schema: { hide: true } }, (_request, reply) =>
    reply.code(501).send({
      error_code: 'NOT_IMPLEMENTED',
      message:
        'REST OTLP span logging is not supported by Trestle; MLflow clients upload whole traces (traces.json) instead.',
    }),
  );
};
