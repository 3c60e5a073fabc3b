/**
 * REST routes of monitoring (contract 4): `POST /inference-logs`, `POST /inference-windows`,
 * `POST /feedback`, reference profiles, results per model version and alias, on-demand runs,
 * and Prometheus gauges at `/monitoring/metrics`.
 */
import { TrestleError } from '@trestle/core';
import {
  doneResponses,
  errorResponses,
  FeedbackAnswer,
  FeedbackBody,
  InferenceLogsAnswer,
  InferenceLogsBody,
  InferenceWindowAnswer,
  InferenceWindowBody,
  MonitoredModelParams,
  MonitoredVersionParams,
  MonitorResult,
  MonitorResultList,
  MonitorResultsQuery,
  MonitorRunAnswer,
  ReferenceBody,
} from '@trestle/core/rest';
import { Type } from 'typebox';
import type { RoutePlugin } from '../route-types.js';
import { MonitorService } from './monitor-service.js';
import { monitoringMetrics } from './prometheus.js';

const tags = ['monitoring'];

export const monitoringRoutes: RoutePlugin = (app, { stores }, done) => {
  const service = new MonitorService({ store: stores.metadata.monitoring });

  app.post(
    '/inference-logs',
    {
      schema: {
        tags,
        summary: 'Log predictions of a served model version',
        description:
          'Predictions come as `records` (one object each) or as `columns` (one array per field, value i of each belonging to requestIds[i]; what serving sends, cheaper to build, parse and store). The server keeps each request as one batch, with an index of its request ids for feedback. A request id already logged for the model version is skipped and counted as a duplicate.',
        body: InferenceLogsBody,
        response: { 200: InferenceLogsAnswer, ...errorResponses },
      },
    },
    async (request) => service.logInferences(request.body),
  );

  app.post(
    '/inference-windows',
    {
      schema: {
        tags,
        summary: 'Ship a window summary of a served model version',
        description:
          'The summary (a @trestle/monitoring WindowSummary) must be built on the bins of the reference profile of that version. Replicas ship one each; they are merged when the window is computed.',
        body: InferenceWindowBody,
        response: { 201: InferenceWindowAnswer, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await service.recordWindow(request.body)),
  );

  app.post(
    '/feedback',
    {
      schema: {
        tags,
        summary: 'Send labels (ground truth) for logged predictions',
        description:
          'Each record names a prediction by requestId or by the key it was logged with. Unknown ids are counted and listed, not errors, and held (7 days): a label that arrives before its prediction is logged is joined when the prediction lands. Labels of the wrong type for the model are refused with the reason. Windows holding a labelled prediction are computed again.',
        body: FeedbackBody,
        response: { 200: FeedbackAnswer, ...errorResponses },
      },
    },
    async (request) => service.feedback(request.body),
  );

  app.put(
    '/monitoring/references/:name/:version',
    {
      schema: {
        tags,
        summary: 'Set the reference profile of a model version',
        params: MonitoredVersionParams,
        body: ReferenceBody,
        response: doneResponses,
      },
    },
    async (request, reply) => {
      await service.setReference(request.params.name, request.params.version, request.body.profile);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/monitoring/references/:name/:version',
    {
      schema: {
        tags,
        summary: 'Get the reference profile of a model version',
        params: MonitoredVersionParams,
        response: { 200: Type.Object({ profile: Type.Unknown() }), ...errorResponses },
      },
    },
    async (request) => {
      const profile = await service.profile(request.params.name, request.params.version);
      if (profile === undefined) {
        throw new TrestleError(
          'NOT_FOUND',
          `no reference profile for ${request.params.name} version ${request.params.version}`,
        );
      }
      return { profile };
    },
  );

  app.get(
    '/monitoring/models/:name/results',
    {
      schema: {
        tags,
        summary: 'Monitoring results of a model over time (oldest first)',
        description: 'One per window and version; filter by version or alias, from a time, the newest `limit`.',
        params: MonitoredModelParams,
        querystring: MonitorResultsQuery,
        response: { 200: MonitorResultList, ...errorResponses },
      },
    },
    async (request) => ({
      items: await stores.metadata.monitoring.listResults({ name: request.params.name, ...request.query }),
    }),
  );

  app.get(
    '/monitoring/models/:name/status',
    {
      schema: {
        tags,
        summary: 'The latest monitoring result of a model (version or alias)',
        params: MonitoredModelParams,
        querystring: MonitorResultsQuery,
        response: { 200: MonitorResult, ...errorResponses },
      },
    },
    async (request) => {
      const [latest] = await stores.metadata.monitoring.listResults({
        name: request.params.name,
        ...request.query,
        limit: 1,
      });
      if (latest === undefined) {
        throw new TrestleError(
          'NOT_FOUND',
          `no monitoring results for ${request.params.name}${request.query.alias === undefined ? '' : `@${request.query.alias}`} yet; windows are computed when they close (or run 'trestle monitor run ${request.params.name}')`,
        );
      }
      return latest;
    },
  );

  app.post(
    '/monitoring/models/:name/run',
    {
      schema: {
        tags,
        summary: 'Compute the windows of a model that closed and changed since last computed',
        params: MonitoredModelParams,
        querystring: Type.Object(
          { version: Type.Optional(Type.String({ minLength: 1 })) },
          { additionalProperties: false },
        ),
        response: { 200: MonitorRunAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const items = await service.computePending(Date.now(), { name: request.params.name, ...request.query });
      return { computed: items.length, items };
    },
  );

  const Ms = Type.Integer({ minimum: -8.64e15, maximum: 8.64e15 });
  app.get(
    '/monitoring/models/:name/versions/:version/summary',
    {
      schema: {
        tags,
        summary: 'The window summaries of one window of a model version (the latest window without start and end)',
        params: MonitoredVersionParams,
        querystring: Type.Object({ start: Type.Optional(Ms), end: Type.Optional(Ms) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ start: Type.Integer(), end: Type.Integer(), summaries: Type.Array(Type.Unknown()) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { name, version } = request.params;
      let { start, end } = request.query;
      if (start === undefined || end === undefined) {
        if (start !== undefined || end !== undefined) {
          throw new TrestleError(
            'INVALID_ARGUMENT',
            'give both start and end (epoch ms) of the window, or neither for the latest',
          );
        }
        const [latest] = await stores.metadata.monitoring.listWindows({ name, version, limit: 1 });
        if (latest === undefined) throw new TrestleError('NOT_FOUND', `no windows of ${name} version ${version} yet`);
        ({ start, end } = latest);
      }
      const texts = await stores.metadata.monitoring.windowSummaries({ name, version, start, end });
      return { start, end, summaries: texts.map((s) => JSON.parse(s) as unknown) };
    },
  );

  app.get(
    '/monitoring/metrics',
    { schema: { tags, summary: 'Prometheus gauges of the latest drift, quality and performance per model version' } },
    async (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(await monitoringMetrics(stores.metadata.monitoring)),
  );

  done();
};
