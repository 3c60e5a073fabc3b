import type { Page, Experiment, SearchExperimentsOptions } from '@trestle/core';
import { isTrestleError, TrestleError } from '@trestle/core';
import { readMaxResults, type RequestMessage } from './request-message.js';
import type { MlflowRoute } from './routes.js';
import { readKeyValues, toMlflowExperiment, VIEW_TYPES, type ClientUris, type MlflowExperiment } from './translate.js';

function searchResponse(
  page: Page<Experiment>,
  locations: ClientUris,
): { experiments?: MlflowExperiment[]; next_page_token?: string } {
  return {
    ...(page.items.length > 0 ? { experiments: page.items.map((e) => toMlflowExperiment(e, locations)) } : {}),
    ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
  };
}

function searchOptions(msg: RequestMessage): SearchExperimentsOptions {
  const filter = msg.string('filter');
  const orderBy = msg.strings('order_by');
  const maxResults = readMaxResults(msg);
  const pageToken = msg.string('page_token');
  const viewType = msg.enumOf('view_type', VIEW_TYPES);
  return {
    ...(filter ? { filter } : {}),
    ...(orderBy.length > 0 ? { orderBy } : {}),
    ...(maxResults === undefined ? {} : { maxResults }),
    ...(pageToken ? { pageToken } : {}),
    ...(viewType === undefined ? {} : { viewType }),
  };
}

/**
 * MLflow's experiment RPCs (`/mlflow/experiments/...`): create, get, get-by-name, search
 * (GET and POST), update (rename), delete, restore, and experiment tags. Also the MLflow 1.x
 * `experiments/list`, still used by older clients such as the npm `mlflow` package.
 */
export const experimentRoutes: readonly MlflowRoute[] = [
  {
    methods: ['POST'],
    url: '/experiments/create',
    handle: async (msg, { metadata, locations }) => {
      const name = msg.requiredString('name');
      const given = msg.string('artifact_location');
      const artifactLocation = given ? locations.checkNew(given) : undefined;
      const tags = readKeyValues(msg, 'tags');
      const experiment = await metadata.createExperiment({
        name,
        ...(artifactLocation ? { artifactLocation } : {}),
        ...(tags.length > 0 ? { tags } : {}),
      });
      return { experiment_id: experiment.experimentId };
    },
  },
  {
    methods: ['GET'],
    url: '/experiments/get',
    handle: async (msg, { metadata, locations }) => ({
      experiment: toMlflowExperiment(await metadata.getExperiment(msg.requiredString('experiment_id')), locations),
    }),
  },
  {
    methods: ['GET'],
    url: '/experiments/get-by-name',
    handle: async (msg, { metadata, locations }) => {
      const name = msg.requiredString('experiment_name');
      try {
        return { experiment: toMlflowExperiment(await metadata.getExperimentByName(name), locations) };
      } catch (err) {
        // MLflow's wording: clients (and people) grep for it.
        if (isTrestleError(err, 'NOT_FOUND')) {
          throw new TrestleError(
            'NOT_FOUND',
            `Could not find experiment with name '${name}'`,
            { name },
            { cause: err },
          );
        }
        throw err;
      }
    },
  },
  {
    methods: ['GET', 'POST'],
    url: '/experiments/search',
    handle: async (msg, { metadata, locations }) =>
      searchResponse(await metadata.searchExperiments(searchOptions(msg)), locations),
  },
  {
    methods: ['GET'],
    url: '/experiments/list',
    handle: async (msg, { metadata, locations }) =>
      searchResponse(await metadata.searchExperiments(searchOptions(msg)), locations),
  },
  {
    methods: ['POST'],
    url: '/experiments/update',
    handle: async (msg, { metadata }) => {
      await metadata.renameExperiment(msg.requiredString('experiment_id'), msg.requiredString('new_name'));
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/experiments/delete',
    handle: async (msg, { metadata }) => {
      await metadata.deleteExperiment(msg.requiredString('experiment_id'));
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/experiments/restore',
    handle: async (msg, { metadata }) => {
      await metadata.restoreExperiment(msg.requiredString('experiment_id'));
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/experiments/set-experiment-tag',
    handle: async (msg, { metadata }) => {
      await metadata.setExperimentTag(
        msg.requiredString('experiment_id'),
        msg.requiredString('key'),
        msg.string('value') ?? '',
      );
      return {};
    },
  },
  {
    methods: ['POST'],
    url: '/experiments/delete-experiment-tag',
    handle: async (msg, { metadata }) => {
      await metadata.deleteExperimentTag(msg.requiredString('experiment_id'), msg.requiredString('key'));
      return {};
    },
  },
];
