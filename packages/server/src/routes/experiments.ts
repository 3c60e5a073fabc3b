import {
  CreateExperimentBody,
  doneResponses as Done,
  errorResponses,
  Experiment,
  ExperimentIdParams as ById,
  ExperimentNameParams,
  ExperimentPage,
  ExperimentTagParams as ByIdAndKey,
  RenameExperimentBody,
  RunKeys,
  SearchExperimentsQuery,
  TagValueBody,
} from '@trestle/core/rest';
import type { RoutePlugin } from '../route-types.js';

const tags = ['experiments'];

/**
 * Experiments: create, search, get (by id or name), rename, delete and restore, and tags.
 * Registered under `/api/v1`.
 */
export const experimentRoutes: RoutePlugin = (app, { stores }, done) => {
  const store = stores.metadata;

  app.post(
    '/experiments',
    {
      schema: {
        tags,
        summary: 'Create an experiment',
        description: 'ALREADY_EXISTS (409) when the name is taken, also by a deleted experiment.',
        body: CreateExperimentBody,
        response: { 201: Experiment, ...errorResponses },
      },
    },
    async (request, reply) => {
      const experiment = await store.createExperiment(request.body);
      return reply
        .status(201)
        .header('location', `${request.routeOptions.url ?? ''}/${experiment.experimentId}`)
        .send(experiment);
    },
  );

  app.get(
    '/experiments',
    {
      schema: {
        tags,
        summary: 'Search experiments',
        querystring: SearchExperimentsQuery,
        response: { 200: ExperimentPage, ...errorResponses },
      },
    },
    async (request) => store.searchExperiments(request.query),
  );

  app.get(
    '/experiments/:experimentId',
    { schema: { tags, summary: 'Get an experiment', params: ById, response: { 200: Experiment, ...errorResponses } } },
    async (request) => store.getExperiment(request.params.experimentId),
  );

  app.get(
    '/experiments/:experimentId/run-keys',
    {
      schema: {
        tags,
        summary: 'The params, metrics and tags keys of the active runs of an experiment',
        description:
          'Read from the indexes without loading the runs (for a column picker over thousands of runs). NOT_FOUND (404) for an unknown experiment.',
        params: ById,
        response: { 200: RunKeys, ...errorResponses },
      },
    },
    async (request) => store.listRunKeys(request.params.experimentId),
  );

  app.get(
    '/experiments/by-name/:name',
    {
      schema: {
        tags,
        summary: 'Get an experiment by name',
        params: ExperimentNameParams,
        response: { 200: Experiment, ...errorResponses },
      },
    },
    async (request) => store.getExperimentByName(request.params.name),
  );

  app.patch(
    '/experiments/:experimentId',
    {
      schema: {
        tags,
        summary: 'Rename an experiment',
        params: ById,
        body: RenameExperimentBody,
        response: { 200: Experiment, ...errorResponses },
      },
    },
    async (request) => {
      await store.renameExperiment(request.params.experimentId, request.body.name);
      return store.getExperiment(request.params.experimentId);
    },
  );

  app.delete(
    '/experiments/:experimentId',
    { schema: { tags, summary: 'Delete an experiment and its runs (restorable)', params: ById, response: Done } },
    async (request, reply) => {
      await store.deleteExperiment(request.params.experimentId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/experiments/:experimentId/restore',
    { schema: { tags, summary: 'Restore a deleted experiment', params: ById, response: Done } },
    async (request, reply) => {
      await store.restoreExperiment(request.params.experimentId);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/experiments/:experimentId/tags/:key',
    { schema: { tags, summary: 'Set an experiment tag', params: ByIdAndKey, body: TagValueBody, response: Done } },
    async (request, reply) => {
      await store.setExperimentTag(request.params.experimentId, request.params.key, request.body.value);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/experiments/:experimentId/tags/:key',
    { schema: { tags, summary: 'Delete an experiment tag', params: ByIdAndKey, response: Done } },
    async (request, reply) => {
      await store.deleteExperimentTag(request.params.experimentId, request.params.key);
      return reply.status(204).send(null);
    },
  );

  done();
};
