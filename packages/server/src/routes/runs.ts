import {
  CompareRunsBody,
  CreateRunInput,
  doneResponses as Done,
  errorResponses,
  fromWireBatch,
  KillRunResult,
  LogBatchInput,
  LogInputsBody,
  MAX_COMPARED_RUNS,
  Run,
  RunComparison,
  RunIdParams as ById,
  RunInfo,
  RunKeyParams as ByIdAndKey,
  RunPage,
  SearchRunsBody,
  TagValueBody,
  toWireRun,
  UpdateRunInput,
} from '@trestle/core/rest';
import { killRun } from '@trestle/core';
import { compareRuns } from '../compare-runs.js';
import type { RoutePlugin } from '../route-types.js';

const tags = ['runs'];

/**
 * Runs: create, get, update, delete and restore, log batches, tags and dataset inputs,
 * search (with OR and parentheses in filters) and compare. Registered under `/api/v1`.
 */
export const runRoutes: RoutePlugin = (app, { stores }, done) => {
  const store = stores.metadata;

  app.post(
    '/runs',
    {
      schema: {
        tags,
        summary: 'Create a run',
        description: 'NOT_FOUND when the experiment does not exist; FAILED_PRECONDITION when it is deleted.',
        body: CreateRunInput,
        response: { 201: Run, ...errorResponses },
      },
    },
    async (request, reply) => {
      const run = await store.createRun(request.body);
      return reply
        .status(201)
        .header('location', `${request.routeOptions.url ?? ''}/${run.info.runId}`)
        .send(toWireRun(run));
    },
  );

  app.get(
    '/runs/:runId',
    { schema: { tags, summary: 'Get a run', params: ById, response: { 200: Run, ...errorResponses } } },
    async (request) => toWireRun(await store.getRun(request.params.runId)),
  );

  app.patch(
    '/runs/:runId',
    {
      schema: {
        tags,
        summary: 'Update a run: status, end time, name',
        params: ById,
        body: UpdateRunInput,
        response: { 200: RunInfo, ...errorResponses },
      },
    },
    async (request) => store.updateRun(request.params.runId, request.body),
  );

  app.delete(
    '/runs/:runId',
    { schema: { tags, summary: 'Delete a run (restorable)', params: ById, response: Done } },
    async (request, reply) => {
      await store.deleteRun(request.params.runId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/runs/:runId/restore',
    { schema: { tags, summary: 'Restore a deleted run', params: ById, response: Done } },
    async (request, reply) => {
      await store.restoreRun(request.params.runId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/runs/:runId/kill',
    {
      schema: {
        tags,
        summary: 'Mark a run whose process died as KILLED',
        description:
          'A RUNNING (or SCHEDULED) run becomes KILLED with the end time now (`killed: true`); a run that already ended ' +
          'is left as it is (`killed: false`). For runs left RUNNING by a process killed with `kill -9`.',
        params: ById,
        response: { 200: KillRunResult, ...errorResponses },
      },
    },
    async (request) => killRun(store, request.params.runId),
  );

  app.post(
    '/runs/:runId/batch',
    {
      schema: {
        tags,
        summary: 'Log metrics, params and tags in one transaction',
        description:
          'At most 1000 metrics, 100 params and 100 tags. Logging a param again with another value is CONFLICT (409). ' +
          'Metric values may be "NaN", "Infinity" or "-Infinity".',
        params: ById,
        body: LogBatchInput,
        response: Done,
      },
    },
    async (request, reply) => {
      await store.logBatch(request.params.runId, fromWireBatch(request.body));
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/runs/:runId/tags/:key',
    { schema: { tags, summary: 'Set a run tag', params: ByIdAndKey, body: TagValueBody, response: Done } },
    async (request, reply) => {
      await store.setTag(request.params.runId, request.params.key, request.body.value);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/runs/:runId/tags/:key',
    { schema: { tags, summary: 'Delete a run tag', params: ByIdAndKey, response: Done } },
    async (request, reply) => {
      await store.deleteTag(request.params.runId, request.params.key);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/runs/:runId/inputs',
    {
      schema: {
        tags,
        summary: 'Record dataset versions the run read',
        params: ById,
        body: LogInputsBody,
        response: Done,
      },
    },
    async (request, reply) => {
      await store.logInputs(request.params.runId, request.body.inputs);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/runs/search',
    {
      schema: {
        tags,
        summary: 'Search runs',
        description:
          "The filter takes MLflow's grammar plus OR and parentheses; a bad filter is INVALID_ARGUMENT naming the position.",
        body: SearchRunsBody,
        response: { 200: RunPage, ...errorResponses },
      },
    },
    async (request) => {
      const page = await store.searchRuns(request.body);
      return { ...page, items: page.items.map(toWireRun) };
    },
  );

  app.post(
    '/runs/compare',
    {
      schema: {
        tags,
        summary: 'Compare runs: params and latest metrics side by side',
        description: `2 to ${MAX_COMPARED_RUNS} runs. Each key lists one value per run (null where the run lacks it) and whether they differ.`,
        body: CompareRunsBody,
        response: { 200: RunComparison, ...errorResponses },
      },
    },
    async (request) => compareRuns(await Promise.all(request.body.runIds.map((id) => store.getRun(id)))),
  );

  done();
};
