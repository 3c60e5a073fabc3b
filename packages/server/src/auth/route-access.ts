/**
 * Which role each route needs, from one table. The default follows the HTTP method: reading
 * (GET, HEAD) needs `reader`, anything else `editor`. The table lists the exceptions: public
 * probes and docs, token management (`admin`), and POST routes that only read (they take a
 * body because a search does not fit in a URL).
 */
import type { Role } from '@trestle/core';
import { DOCS_PATH, OPENAPI_PATH } from '../openapi.js';
import { MLFLOW_API_ROOTS, MLFLOW_V3_API_ROOTS } from '../mlflow/index.js';
import { UI_ASSETS_ROUTE, UI_PAGE_ROUTES } from '../ui-static.js';

/** What a route needs: no credentials at all, or a token of at least this role. */
export type Access = 'public' | Role;

/** One exception to the method-based default. */
export interface AccessRule {
  /** Route patterns as registered (`/api/v1/runs/:runId`); with `prefix`, also every route under them. */
  readonly routes: readonly string[];
  readonly prefix?: boolean;
  /** Methods the rule covers; all when absent. */
  readonly methods?: readonly string[];
  readonly access: Access;
  /** Why, for people reading the table (and the README). */
  readonly why: string;
}

const mlflow = (...paths: string[]): string[] =>
  MLFLOW_API_ROOTS.flatMap((root) => paths.map((p) => `${root}/mlflow${p}`));

/** The exceptions, first match wins. */
export const ACCESS_RULES: readonly AccessRule[] = [
  { routes: ['/health', '/ready'], access: 'public', why: 'probes of load balancers and orchestrators' },
  { routes: [OPENAPI_PATH, DOCS_PATH], prefix: true, access: 'public', why: 'the API reference holds no data' },
  {
    routes: [...UI_PAGE_ROUTES, UI_ASSETS_ROUTE],
    methods: ['GET', 'HEAD'],
    access: 'public',
    why: 'the web UI files hold no data; the app asks for a token',
  },
  { routes: ['/api/v1/tokens'], prefix: true, access: 'admin', why: 'token management' },
  {
    routes: [
      '/api/v1/runs/search',
      '/api/v1/runs/compare',
      ...mlflow(
        '/runs/search',
        '/experiments/search',
        '/artifacts/presigned-download-url',
        '/registered-models/get-latest-versions',
        '/logged-models/search',
      ),
      ...MLFLOW_V3_API_ROOTS.map((root) => `${root}/mlflow/traces/search`),
      // MLflow's web UI's GraphQL: every field served is a read (see mlflow/graphql.ts).
      '/graphql',
    ],
    methods: ['POST'],
    access: 'reader',
    why: 'POST only because the query is a body; nothing is written',
  },
];

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

function matches(rule: AccessRule, method: string, url: string): boolean {
  if (rule.methods !== undefined && !rule.methods.includes(method)) return false;
  return rule.routes.some((r) => url === r || (rule.prefix === true && url.startsWith(r.endsWith('/') ? r : `${r}/`)));
}

/**
 * The access a request needs, from its method and the pattern of the route it matched
 * (`request.routeOptions.url`); `undefined` (no route matched) needs `reader`, so that
 * a caller without a token learns nothing, not even which paths exist.
 *
 * @example
 * requiredAccess('GET', '/api/v1/runs/:runId')         // 'reader'
 * requiredAccess('POST', '/api/v1/runs/search')        // 'reader'
 * requiredAccess('DELETE', '/api/v1/runs/:runId')      // 'editor'
 * requiredAccess('POST', '/api/v1/tokens')             // 'admin'
 * requiredAccess('GET', '/health')                     // 'public'
 */
export function requiredAccess(method: string, routeUrl: string | undefined): Access {
  const upper = method.toUpperCase();
  if (routeUrl === undefined) return 'reader';
  for (const rule of ACCESS_RULES) if (matches(rule, upper, routeUrl)) return rule.access;
  return READ_METHODS.has(upper) ? 'reader' : 'editor';
}
