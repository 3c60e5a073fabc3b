import {
  CreateModelVersionBody,
  CreateRegisteredModelBody,
  DatasetLineage,
  DeleteAliasQuery,
  DigestParams,
  doneResponses as Done,
  errorResponses,
  ListEventsQuery,
  ModelAliasParams,
  ModelLineage,
  ModelNameParams,
  ModelTagParams,
  ModelVersion,
  ModelVersionPage,
  ModelVersionParams,
  ModelVersionTagParams,
  RegisteredModel,
  RegisteredModelPage,
  RegistryEventList,
  RollbackAliasBody,
  SearchRegistryQuery,
  SetAliasBody,
  TagValueBody,
  UpdateModelVersionBody,
  UpdateRegisteredModelBody,
} from '@trestle/core/rest';
import { TrestleError } from '@trestle/core';
import { changeContext as ctx } from '../change-context.js';
import type { RoutePlugin } from '../route-types.js';

const tags = ['registry'];
const WHO =
  'Recorded in the audit trail with the actor (the token name when access control is on, else X-Trestle-Actor) and X-Trestle-Reason.';

/**
 * The model registry: registered models, versions, tags, aliases (set, move, delete, roll
 * back), lineage and the audit trail. Registered under `/api/v1`.
 */
export const registryRoutes: RoutePlugin = (app, { stores }, done) => {
  const registry = stores.metadata.registry;

  // The schema's conversion would read `1.5` as version 1: a version in the path is digits only.
  app.addHook('preValidation', (request, _reply, next) => {
    const raw = (request.params as Record<string, unknown> | undefined)?.['version'];
    if (typeof raw === 'string' && !/^\d+$/.test(raw)) {
      next(new TrestleError('INVALID_ARGUMENT', `model version must be a positive integer such as 3, got '${raw}'`));
      return;
    }
    next();
  });

  app.post(
    '/registered-models',
    {
      schema: {
        tags,
        summary: 'Create a registered model',
        description: `ALREADY_EXISTS (409) when the name is taken. ${WHO}`,
        body: CreateRegisteredModelBody,
        response: { 201: RegisteredModel, ...errorResponses },
      },
    },
    async (request, reply) => {
      const model = await registry.createRegisteredModel(request.body, ctx(request));
      return reply
        .status(201)
        .header('location', `${request.routeOptions.url ?? ''}/${encodeURIComponent(model.name)}`)
        .send(model);
    },
  );

  app.get(
    '/registered-models',
    {
      schema: {
        tags,
        summary: 'Search registered models',
        description: "Filter on name and tags.<key> (MLflow's registry rules, plus OR and parentheses).",
        querystring: SearchRegistryQuery,
        response: { 200: RegisteredModelPage, ...errorResponses },
      },
    },
    async (request) => registry.searchRegisteredModels(request.query),
  );

  app.get(
    '/registered-models/:name',
    {
      schema: {
        tags,
        summary: 'Get a registered model',
        params: ModelNameParams,
        response: { 200: RegisteredModel, ...errorResponses },
      },
    },
    async (request) => registry.getRegisteredModel(request.params.name),
  );

  app.patch(
    '/registered-models/:name',
    {
      schema: {
        tags,
        summary: 'Update the description of a registered model, or rename it',
        description: `ALREADY_EXISTS (409) when the new name is taken. ${WHO}`,
        params: ModelNameParams,
        body: UpdateRegisteredModelBody,
        response: { 200: RegisteredModel, ...errorResponses },
      },
    },
    async (request) => {
      let name = request.params.name;
      if (request.body.name !== undefined && request.body.name !== name) {
        name = (await registry.renameRegisteredModel(name, request.body.name, ctx(request))).name;
      }
      if (request.body.description !== undefined) {
        return registry.updateRegisteredModel(name, { description: request.body.description }, ctx(request));
      }
      return registry.getRegisteredModel(name);
    },
  );

  app.delete(
    '/registered-models/:name',
    {
      schema: {
        tags,
        summary: 'Delete a registered model with its versions and aliases (the audit trail stays)',
        params: ModelNameParams,
        response: Done,
      },
    },
    async (request, reply) => {
      await registry.deleteRegisteredModel(request.params.name, ctx(request));
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/registered-models/:name/tags/:key',
    {
      schema: {
        tags,
        summary: 'Set a registered model tag',
        params: ModelTagParams,
        body: TagValueBody,
        response: Done,
      },
    },
    async (request, reply) => {
      const { name, key } = request.params;
      await registry.setRegisteredModelTag(name, key, request.body.value, ctx(request));
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/registered-models/:name/tags/:key',
    { schema: { tags, summary: 'Delete a registered model tag', params: ModelTagParams, response: Done } },
    async (request, reply) => {
      await registry.deleteRegisteredModelTag(request.params.name, request.params.key, ctx(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/registered-models/:name/versions',
    {
      schema: {
        tags,
        summary: 'Register a new version',
        description:
          'Atomic: the model (with createModel), the version, its tags and aliases are all written or none. ' +
          `NOT_FOUND (404) for an unknown model (without createModel) or run; FAILED_PRECONDITION (412) for aliases on a version that is not READY. ${WHO}`,
        params: ModelNameParams,
        body: CreateModelVersionBody,
        response: { 201: ModelVersion, ...errorResponses },
      },
    },
    async (request, reply) => {
      const version = await registry.createModelVersion({ ...request.body, name: request.params.name }, ctx(request));
      return reply
        .status(201)
        .header('location', `${request.url.split('?')[0] ?? ''}/${version.version}`)
        .send(version);
    },
  );

  app.get(
    '/registered-models/:name/versions/:version',
    {
      schema: {
        tags,
        summary: 'Get a model version',
        params: ModelVersionParams,
        response: { 200: ModelVersion, ...errorResponses },
      },
    },
    async (request) => registry.getModelVersion(request.params.name, request.params.version),
  );

  app.patch(
    '/registered-models/:name/versions/:version',
    {
      schema: {
        tags,
        summary: 'Update a model version (description, status, stage)',
        description: `FAILED_PRECONDITION (412) when an aliased version would leave READY. ${WHO}`,
        params: ModelVersionParams,
        body: UpdateModelVersionBody,
        response: { 200: ModelVersion, ...errorResponses },
      },
    },
    async (request) =>
      registry.updateModelVersion(request.params.name, request.params.version, request.body, ctx(request)),
  );

  app.delete(
    '/registered-models/:name/versions/:version',
    {
      schema: {
        tags,
        summary: 'Delete a model version and the aliases on it',
        params: ModelVersionParams,
        response: Done,
      },
    },
    async (request, reply) => {
      await registry.deleteModelVersion(request.params.name, request.params.version, ctx(request));
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/registered-models/:name/versions/:version/tags/:key',
    {
      schema: {
        tags,
        summary: 'Set a model version tag',
        params: ModelVersionTagParams,
        body: TagValueBody,
        response: Done,
      },
    },
    async (request, reply) => {
      const { name, version, key } = request.params;
      await registry.setModelVersionTag(name, version, key, request.body.value, ctx(request));
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/registered-models/:name/versions/:version/tags/:key',
    { schema: { tags, summary: 'Delete a model version tag', params: ModelVersionTagParams, response: Done } },
    async (request, reply) => {
      const { name, version, key } = request.params;
      await registry.deleteModelVersionTag(name, version, key, ctx(request));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/registered-models/:name/versions/:version/lineage',
    {
      schema: {
        tags,
        summary: 'Lineage of a version: its run and the datasets that run read',
        params: ModelVersionParams,
        response: { 200: ModelLineage, ...errorResponses },
      },
    },
    async (request) => registry.getVersionLineage(request.params.name, request.params.version),
  );

  app.get(
    '/registered-models/:name/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'Get the version an alias points to',
        params: ModelAliasParams,
        response: { 200: ModelVersion, ...errorResponses },
      },
    },
    async (request) => registry.getModelVersionByAlias(request.params.name, request.params.alias),
  );

  app.put(
    '/registered-models/:name/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'Set or move an alias',
        description: `FAILED_PRECONDITION (412) when the version is not READY; the move is recorded with the old and new version. ${WHO}`,
        params: ModelAliasParams,
        body: SetAliasBody,
        response: { 200: ModelVersion, ...errorResponses },
      },
    },
    async (request) => {
      const { name, alias } = request.params;
      await registry.setAlias(name, alias, request.body.version, ctx(request, request.body.reason));
      return registry.getModelVersion(name, request.body.version);
    },
  );

  app.delete(
    '/registered-models/:name/aliases/:alias',
    {
      schema: {
        tags,
        summary: 'Delete an alias',
        params: ModelAliasParams,
        querystring: DeleteAliasQuery,
        response: Done,
      },
    },
    async (request, reply) => {
      await registry.deleteAlias(request.params.name, request.params.alias, ctx(request, request.query.reason));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/registered-models/:name/aliases/:alias/rollback',
    {
      schema: {
        tags,
        summary: 'Move an alias back to the version it pointed to before its last move',
        description: `FAILED_PRECONDITION (412) when there is no earlier version. ${WHO}`,
        params: ModelAliasParams,
        body: RollbackAliasBody,
        response: { 200: ModelVersion, ...errorResponses },
      },
    },
    async (request) =>
      registry.rollbackAlias(request.params.name, request.params.alias, ctx(request, request.body.reason)),
  );

  app.get(
    '/registered-models/:name/history',
    {
      schema: {
        tags,
        summary: 'Audit trail of a registered model, newest first',
        params: ModelNameParams,
        querystring: ListEventsQuery,
        response: { 200: RegistryEventList, ...errorResponses },
      },
    },
    async (request) => ({
      items: await registry.listEvents({ order: 'desc', ...request.query, model: request.params.name }),
    }),
  );

  app.get(
    '/model-versions',
    {
      schema: {
        tags,
        summary: 'Search model versions',
        description: 'Filter on name, version_number, run_id (also IN), source_path, tags.<key>.',
        querystring: SearchRegistryQuery,
        response: { 200: ModelVersionPage, ...errorResponses },
      },
    },
    async (request) => registry.searchModelVersions(request.query),
  );

  app.get(
    '/registry/events',
    {
      schema: {
        tags,
        summary: 'The audit trail of the whole registry (in id order unless order=desc)',
        querystring: ListEventsQuery,
        response: { 200: RegistryEventList, ...errorResponses },
      },
    },
    async (request) => ({ items: await registry.listEvents(request.query) }),
  );

  app.get(
    '/datasets/:digest/lineage',
    {
      schema: {
        tags,
        summary: 'Lineage of a dataset version: the runs that read it and the model versions they made',
        params: DigestParams,
        response: { 200: DatasetLineage, ...errorResponses },
      },
    },
    async (request) => registry.getDatasetLineage(request.params.digest),
  );

  done();
};
