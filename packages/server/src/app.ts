import type { TrestleConfig } from '@trestle/core';
import { API_V1_PREFIX, API_VERSION } from '@trestle/core/rest';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { INTERNAL_MESSAGE, toHttpError } from './http-errors.js';
import { registerDocs, registerOpenApi } from './openapi.js';
import { isMlflowUrl, mlflowErrorHandler, mlflowPlugin } from './mlflow/index.js';
import { REQUEST_ID_HEADER, requestId } from './request-id.js';
import { OneLineRequestLog } from './request-log.js';
import { artifactRoutes } from './routes/artifacts.js';
import { experimentRoutes } from './routes/experiments.js';
import { healthRoutes } from './routes/health.js';
import { metricRoutes } from './routes/metrics.js';
import { monitoringRoutes } from './monitoring/routes.js';
import { runRoutes } from './routes/runs.js';
import { tokenRoutes } from './routes/tokens.js';
import { registryRoutes } from './routes/registry.js';
import { eventRoutes } from './routes/events.js';
import { installAuth } from './auth/auth-hook.js';
import { installIdempotency } from './idempotency.js';
import type { ServerStores } from './route-types.js';
import { uiStaticRoutes } from './ui-static.js';
import { uiBuildState } from '@trestle/ui';

/** A Fastify plugin to mount after the core routes, such as the MLflow REST dialect. */
export interface ExtraPlugin {
  // Plugins choose their own option types; `any` lets each keep its precise one.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugin: FastifyPluginAsync<any>;
  /**
   * Passed to `app.register`, e.g. `{ prefix: '/extra' }`; or a function of the server's stores
   * for plugins that need them (`(stores) => ({ ...stores })`), handy with `startServer`,
   * which opens the stores itself.
   */
  options?: object | ((stores: ServerStores) => object);
}

/** Options of {@link buildServer}. */
export interface BuildServerOptions {
  stores: ServerStores;
  /** The frozen configuration; the server reads no environment itself. */
  config?: TrestleConfig;
  /**
   * `false` (default) for silence, `true` for JSON logs at `info` on stdout, pino options
   * (e.g. `{ level: 'debug', stream }`), or a ready pino-compatible logger.
   */
  logger?: boolean | NonNullable<Exclude<FastifyServerOptions['logger'], boolean>> | FastifyBaseLogger;
  /** Largest JSON request body in bytes; default {@link DEFAULT_BODY_LIMIT}. Artifact uploads are not limited. */
  bodyLimit?: number;
  /** Serve the MLflow REST 2.0 dialect (`/api/2.0/mlflow/…`, `/ajax-api/2.0/…`); default true. */
  mlflow?: boolean;
  /** Extra plugins registered after the v1 routes, each in its own encapsulated context. */
  plugins?: ExtraPlugin[];
  /**
   * Access control (off by default): with `{ enabled: true }` every route but `/health`, `/ready`
   * and the API docs needs an API token of `stores.metadata.tokens`, and the admin token routes
   * `/api/v1/tokens` are mounted. Extra plugins are covered too.
   */
  auth?: { enabled: boolean };
  /**
   * The web UI at `/` (public files; the app asks for a token itself): default the build of
   * `@trestle/ui`, or another folder of a built app; `false` mounts nothing. Without a build,
   * `/` says how to get one.
   */
  ui?: { dir: string } | false;
}

/**
 * Default JSON body limit: room for the largest batch MLflow allows (100 params of 6,000
 * characters, 100 tags of 8,000, 1,000 metrics) with space to spare.
 */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

function isLoggerInstance(value: unknown): value is FastifyBaseLogger {
  return typeof value === 'object' && value !== null && typeof (value as { child?: unknown }).child === 'function';
}

/**
 * Builds the control-plane HTTP app: the Trestle REST API v1 under `/api/v1`, its OpenAPI
 * document at `/api/v1/openapi.json`, Swagger UI at `/docs`, `/health` and `/ready`, one
 * error handler that answers `{ error: { code, message, details? } }`, and request ids
 * (an incoming `x-request-id` is kept and echoed). Does no I/O and does not listen: call
 * `app.listen()` or use `startServer`. Extra plugins (the MLflow dialect) mount after the
 * v1 routes.
 *
 * @example
 * const app = await buildServer({ stores: await openStores(config), config });
 * const res = await app.inject({ method: 'GET', url: '/api/v1/experiments' });
 */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const { stores, logger = false, bodyLimit = DEFAULT_BODY_LIMIT, mlflow = true, plugins = [] } = options;
  const answerError = (err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const answer = toHttpError(err, { bodyLimit });
    if (answer.internal) {
      request.log.error(
        { err },
        answer.body.error.message === INTERNAL_MESSAGE ? 'unexpected error' : answer.body.error.message,
      );
    } else {
      request.log.info({ code: answer.body.error.code, message: answer.body.error.message }, 'request refused');
    }
    return reply.status(answer.status).send(answer.body);
  };
  const app = Fastify({
    ...(isLoggerInstance(logger) ? { loggerInstance: logger } : { logger }),
    bodyLimit,
    genReqId: requestId,
    logController: new OneLineRequestLog(),
    // Experiment names (up to 500 characters) and artifact paths travel in the URL.
    routerOptions: { maxParamLength: 4096 },
    // URLs the router refuses before any route is found (a malformed percent-encoding such as
    // `%zz`, a path segment over maxParamLength) would otherwise be answered in Fastify's own
    // shape, past both error handlers: answer them in the shape of the API the URL belongs to.
    frameworkErrors: (err, request, reply) => {
      void reply.header(REQUEST_ID_HEADER, request.id);
      if (mlflow && isMlflowUrl(request.url)) mlflowErrorHandler(err, request, reply);
      else void answerError(err, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.addHook('onRequest', (request, reply, next) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    next();
  });
  // Before any route, so that it sees every route and runs before any body is read.
  if (options.auth?.enabled === true) installAuth(app, { tokens: stores.metadata.tokens });
  // After access control (a refused request claims no key), before every route.
  installIdempotency(app, { store: stores.metadata.idempotency });
  // Once close() has begun, answers to requests still in flight end their connection, so
  // that keep-alive clients do not hold the shutdown open until their idle timeout.
  let draining = false;
  app.addHook('preClose', (next) => {
    draining = true;
    next();
  });
  app.addHook('onSend', (_request, reply, payload, next) => {
    if (draining) void reply.header('connection', 'close');
    next(null, payload);
  });
  app.setErrorHandler(answerError);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}; the API is described at /api/v1/openapi.json`,
      },
    }),
  );

  await registerOpenApi(app, API_VERSION);
  await app.register(healthRoutes, { stores });
  for (const routes of [
    experimentRoutes,
    runRoutes,
    metricRoutes,
    artifactRoutes,
    registryRoutes,
    eventRoutes,
    monitoringRoutes,
  ]) {
    await app.register(routes, { stores, prefix: API_V1_PREFIX });
  }
  if (options.auth?.enabled === true) await app.register(tokenRoutes, { stores, prefix: API_V1_PREFIX });
  await registerDocs(app);
  if (options.ui !== false) {
    const ui = uiBuildState(options.ui?.dir);
    await app.register(uiStaticRoutes, { dir: ui.dir, howToBuild: ui.howToBuild });
  }
  if (mlflow) {
    await app.register(mlflowPlugin, {
      metadata: stores.metadata,
      artifacts: stores.artifacts,
      // With an S3 endpoint, MLflow experiments may keep their artifacts at s3:// locations; a
      // server whose own store is on S3 allows them without one (ArtifactLocations sees to it).
      s3: options.config?.s3Endpoint === undefined ? undefined : { s3Endpoint: options.config.s3Endpoint },
    });
  }
  for (const { plugin, options: pluginOptions = {} } of plugins) {
    const resolved =
      typeof pluginOptions === 'function' ? (pluginOptions as (s: ServerStores) => object)(stores) : pluginOptions;
    await app.register(plugin, resolved);
  }
  return app;
}
