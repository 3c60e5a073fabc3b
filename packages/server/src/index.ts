/**
 * The Trestle control plane: the REST API v1 (with its OpenAPI document and docs), health
 * probes, and a slot for extra plugins such as the MLflow REST dialect.
 *
 * @example
 * const server = await startServer({ config: loadConfig({}, process.env), port: 5000 });
 */
export { buildServer, DEFAULT_BODY_LIMIT, type BuildServerOptions, type ExtraPlugin } from './app.js';
export { startServer, type RunningServer, type StartServerOptions } from './serve.js';
export type { ServerStores, RouteOptions, RoutePlugin } from './route-types.js';
export { toHttpError, describeValidation, type HttpError, type FieldError } from './http-errors.js';
export { OPENAPI_PATH, DOCS_PATH } from './openapi.js';
export { REQUEST_ID_HEADER } from './request-id.js';
export { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER, installIdempotency, type IdempotencyOptions } from './idempotency.js';
export { mlflowPlugin, MLFLOW_API_ROOTS, type MlflowPluginOptions } from './mlflow/index.js';
export { routeAccessOf, WWW_AUTHENTICATE, BOOTSTRAP_TOKEN_NAME, type RouteAccess } from './auth/auth-hook.js';
export { requiredAccess, ACCESS_RULES, type Access, type AccessRule } from './auth/route-access.js';
export { parseAuthorization, type Credentials } from './auth/credentials.js';
export { MonitorService, type MonitorServiceOptions, type FeedbackOutcome } from './monitoring/monitor-service.js';
export { WindowJob, WINDOW_JOB_LEASE, type WindowJobOptions } from './monitoring/window-job.js';
export {
  AlertEngine,
  parseAlertConfig,
  signBody,
  checkRule,
  SIGNATURE_HEADER,
  type AlertConfig,
  type AlertRule,
  type AlertSink,
  type AlertEvent,
  type AlertStateStore,
} from './monitoring/alerts.js';
export { monitoringMetrics } from './monitoring/prometheus.js';
