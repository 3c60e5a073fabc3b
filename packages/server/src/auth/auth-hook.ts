/**
 * Access control for the whole server: an `onRequest` hook that runs before any body is read,
 * so a refused upload writes nothing and costs nothing. Every route but the public ones needs
 * a valid API token; the role it needs comes from `route-access.ts`.
 */
import { roleAllows, TrestleError, type ApiToken, type Role, type TokenStore } from '@trestle/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAuthorization } from './credentials.js';
import { rememberCaller } from './caller.js';
import { requiredAccess, type Access } from './route-access.js';

/** The challenge sent with every 401: both schemes clients may answer with. */
export const WWW_AUTHENTICATE = 'Bearer realm="trestle", Basic realm="trestle"';

/** Options of {@link installAuth}. */
export interface AuthOptions {
  /** Where tokens are checked. */
  tokens: TokenStore;
}

/** One method of one route and the access it needs. */
export interface RouteAccess {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

const routeTables = new WeakMap<FastifyInstance, RouteAccess[]>();

/** Request bodies up to this size are drained after a refusal (keeping the connection); larger ones close it. */
const DRAINED_BODY_BYTES = 64 * 1024;

const HOW_TO_SEND =
  "send 'Authorization: Bearer <token>' (Trestle SDK: TRESTLE_TRACKING_TOKEN; MLflow clients: MLFLOW_TRACKING_TOKEN, " +
  'or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD with the token as password)';

function unauthenticated(reason: string): TrestleError {
  return new TrestleError(
    'UNAUTHENTICATED',
    `${reason}; ${HOW_TO_SEND}. An admin creates tokens with 'trestle tokens create'`,
  );
}

function denied(token: ApiToken, needed: Role, request: FastifyRequest): TrestleError {
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0] ?? ''}`;
  return new TrestleError(
    'PERMISSION_DENIED',
    `token '${token.name}' (${token.tokenId}) has role ${token.role}, but ${route} needs ${needed}; ask an admin for a token with role ${needed}`,
    { tokenId: token.tokenId, role: token.role, needed },
  );
}

// A refusal is answered before the body is read. A small body is drained so the connection
// can be reused; a large or unknown-length one (an artifact upload) closes it instead.
function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.complete) return;
  const length = Number(request.headers['content-length'] ?? Number.NaN);
  const chunked = request.headers['transfer-encoding'] !== undefined;
  if (chunked || (Number.isFinite(length) && length > DRAINED_BODY_BYTES)) void reply.header('connection', 'close');
}

/**
 * Turns access control on for `app`. Call it on the root instance before any route is
 * registered: it records every route's access as routes are added (see {@link routeAccessOf})
 * and checks each request. A request without a valid token (none, malformed, unknown, revoked)
 * is refused with 401 UNAUTHENTICATED and a `WWW-Authenticate` challenge; a token whose role
 * is too low with 403 PERMISSION_DENIED. Refusals are thrown, so each API answers in its own
 * error shape (`{error:{code,message}}` for v1, `{error_code,message}` for the MLflow dialect).
 *
 * @example
 * const app = Fastify();
 * installAuth(app, { tokens: stores.metadata.tokens });
 * await app.register(routes);
 */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const { tokens } = options;
  const table: RouteAccess[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      table.push({ method, url: route.url, access: requiredAccess(method, route.url) });
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    const access = requiredAccess(request.method, request.routeOptions.url);
    if (access === 'public') return;
    const refuse = (err: TrestleError): TrestleError => {
      closeIfBodyPending(request, reply);
      if (err.code === 'UNAUTHENTICATED') void reply.header('www-authenticate', WWW_AUTHENTICATE);
      return err;
    };
    const credentials = parseAuthorization(request.headers.authorization);
    if (credentials.kind === 'none') throw refuse(unauthenticated('this server requires an API token'));
    if (credentials.kind === 'malformed')
      throw refuse(unauthenticated(`the Authorization header is malformed: ${credentials.reason}`));
    const token = await tokens.verifyToken(credentials.token);
    if (token === undefined) throw refuse(unauthenticated('the API token is not valid (unknown or revoked)'));
    if (!roleAllows(token.role, access)) throw refuse(denied(token, access, request));
    rememberCaller(request, token);
  });
}

/**
 * Every route registered on `app` since {@link installAuth}, one entry per method, with the
 * access it needs; empty when access control is off. For tests and documentation.
 *
 * @example routeAccessOf(app).filter((r) => r.access === 'admin') // the token routes
 */
export function routeAccessOf(app: FastifyInstance): readonly RouteAccess[] {
  return routeTables.get(app) ?? [];
}

/** Name of the admin token created when a server with access control starts without one. */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/**
 * Creates the first admin token when no valid admin token exists, and returns its secret
 * (to be shown once); `undefined` when there already is one.
 *
 * @example const secret = await bootstrapAdminToken(stores.metadata.tokens); // 'trestle_…' on a fresh store
 */
export async function bootstrapAdminToken(tokens: TokenStore): Promise<string | undefined> {
  if ((await tokens.countAdmins()) > 0) return undefined;
  const { token } = await tokens.createToken({ name: BOOTSTRAP_TOKEN_NAME, role: 'admin' });
  return token;
}
