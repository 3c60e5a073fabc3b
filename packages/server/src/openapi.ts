import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';

/** Where the generated OpenAPI document is served. */
export const OPENAPI_PATH = '/api/v1/openapi.json';
/** Where the browsable API reference is served. */
export const DOCS_PATH = '/docs';

const DOCUMENTED = ['/api/v1/', '/health', '/ready'];

/**
 * Collects every route's schema into an OpenAPI 3.1 document. Must be registered on the root
 * instance before any route, because it learns routes as they are added.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Trestle REST API',
        version,
        description: [
          'The Trestle REST API v1: experiments, runs, metrics and artifacts.',
          'Errors are `{ "error": { "code", "message", "details"? } }` with the codes of `TrestleError`.',
          'Metric values that JSON cannot carry travel as the strings "NaN", "Infinity" and "-Infinity".',
        ].join('\n\n'),
      },
      tags: [
        { name: 'experiments', description: 'Named groups of runs' },
        { name: 'runs', description: 'Runs and what they logged' },
        { name: 'metrics', description: 'Metric histories' },
        { name: 'artifacts', description: 'Files of a run, streamed' },
        { name: 'health', description: 'Liveness and readiness probes' },
      ],
    },
    transform: ({ schema, url }) => {
      // This document describes the Trestle API; other dialects (MLflow) have their own reference.
      if (!DOCUMENTED.some((prefix) => url.startsWith(prefix))) return { schema: { ...schema, hide: true }, url };
      return url.endsWith('/*') ? namedWildcard(schema, url) : { schema, url };
    },
  });
}

/** Serves the OpenAPI document at {@link OPENAPI_PATH} and Swagger UI at {@link DOCS_PATH}. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_PATH, { schema: { hide: true } }, () => app.swagger());
  await app.register(swaggerUi, { routePrefix: DOCS_PATH, uiConfig: { docExpansion: 'list', deepLinking: true } });
}

interface ObjectSchema {
  properties?: Record<string, unknown>;
  required?: string[];
}

// Routes ending in `*` (artifact paths) show the wildcard as a documented `{path}` parameter.
function namedWildcard(schema: FastifySchema, url: string): { schema: FastifySchema; url: string } {
  const params = (schema.params ?? {}) as ObjectSchema;
  return {
    url: `${url.slice(0, -1)}:path`,
    schema: {
      ...schema,
      params: {
        type: 'object',
        properties: {
          ...params.properties,
          path: {
            type: 'string',
            description: "artifact path relative to the run's artifact root, e.g. model/model.onnx",
          },
        },
        required: [...(params.required ?? []), 'path'],
      },
    },
  };
}
