import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ArtifactStore, MetadataStore } from '@trestle/core';
// Brings in @fastify/swagger's `schema.hide` (types only; nothing is loaded at run time).
import type {} from '@fastify/swagger';
import { JSON_CONTENT_TYPE } from '../history-json.js';
import { parseJsonBody } from './json-body.js';
import { RequestMessage } from './request-message.js';
import type { ArtifactLocations } from './artifact-locations.js';

/**
 * What a route handler works with: the two stores, experiments' artifact locations and the
 * request (for its origin, logger…).
 */
export interface MlflowRouteContext extends MlflowContext {
  readonly request: FastifyRequest;
}

/**
 * One MLflow RPC: its path under `/mlflow`, the methods MLflow serves it with, and a handler
 * from the request message to the response message (a plain object sent as JSON).
 *
 * @example
 * const getRun: MlflowRoute = {
 *   methods: ['GET'], url: '/runs/get',
 *   handle: async (msg, { metadata }) => ({ run: toMlflowRun(await metadata.getRun(msg.runId())) }),
 * };
 */
export interface MlflowRoute {
  readonly methods: readonly ('GET' | 'POST' | 'PATCH' | 'DELETE')[];
  readonly url: string;
  /**
   * The API versions serving it, from the `since` of its endpoint in MLflow's protos: MLflow
   * serves a `since 2.0` endpoint under `/api/2.0` and `/ajax-api/2.0` only, a `since 3.0` one
   * under `/api/3.0` and `/ajax-api/3.0` only. Default `['2.0']`.
   */
  readonly versions?: readonly MlflowApiVersion[];
  /** Largest JSON body in bytes, when it differs from the dialect's default. */
  readonly bodyLimit?: number;
  readonly handle: (message: RequestMessage, context: MlflowRouteContext) => Promise<object | JsonText | RawReply>;
}

/** An MLflow REST API version. */
export type MlflowApiVersion = '2.0' | '3.0';

/**
 * A response that is not a JSON message (a file such as a trace's `traces.json`), sent with
 * its own headers.
 *
 * @example return new RawReply(stream, { 'content-type': 'application/octet-stream' });
 */
export class RawReply {
  constructor(
    readonly body: NodeJS.ReadableStream | string | Buffer,
    readonly headers: Readonly<Record<string, string>>,
  ) {}
}

/**
 * A response message already serialised (such as a long metric history the store wrote as JSON),
 * which a route returns to have it sent as is.
 *
 * @example return new JsonText('{"metrics":[…]}');
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** The stores every MLflow route needs. */
export interface MlflowStores {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
}

/** The stores and the artifact locations over them, shared by every route of the dialect. */
export interface MlflowContext extends MlflowStores {
  readonly locations: ArtifactLocations;
}

/**
 * Makes `app` (an encapsulated scope of the dialect) read JSON bodies as MLflow's server does,
 * with {@link parseJsonBody} (bare `NaN` tolerated), and no other content type.
 *
 * @param bodyLimit largest body in bytes; default the server's
 */
export function readMlflowJsonBodies(app: FastifyInstance, bodyLimit?: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', ...(bodyLimit === undefined ? {} : { bodyLimit }) },
    (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
}

/**
 * The request message of an RPC, the way MLflow's `_get_request_message` finds it: the query
 * string of a GET that has one, the JSON body otherwise.
 */
function requestMessage(request: FastifyRequest): RequestMessage {
  const hasQuery = typeof request.query === 'object' && request.query !== null && Object.keys(request.query).length > 0;
  // MLflow's client sends DELETE with a JSON body; other clients put the fields in the query.
  const fromQuery = request.method === 'GET' || (request.method === 'DELETE' && request.body === undefined);
  return hasQuery && fromQuery ? RequestMessage.fromQuery(request.query) : RequestMessage.fromBody(request.body);
}

/**
 * Registers a table of MLflow RPCs on `app`. The routes carry no JSON schema: the request
 * message is read with MLflow's proto JSON rules (see {@link RequestMessage}) and the routes are
 * hidden from Trestle's OpenAPI document, MLflow's own REST reference being their contract.
 */
export function registerMlflowRoutes(
  app: FastifyInstance,
  routes: readonly MlflowRoute[],
  stores: MlflowContext,
): void {
  for (const route of routes) {
    app.route({
      method: [...route.methods],
      url: route.url,
      schema: { hide: true },
      ...(route.bodyLimit === undefined ? {} : { bodyLimit: route.bodyLimit }),
      handler: async (request, reply) => {
        const answer = await route.handle(requestMessage(request), { ...stores, request });
        if (answer instanceof RawReply) return reply.headers(answer.headers).send(answer.body);
        return answer instanceof JsonText ? reply.type(JSON_CONTENT_TYPE).send(answer.text) : answer;
      },
    });
  }
}
