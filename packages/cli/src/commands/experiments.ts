import type { Experiment } from '@trestle/core';
import type { Command, CommandGroup } from '../framework/command.js';
import { formatTime, table } from '../framework/output.js';
import { parseKeyValues, parsePositiveInt, resolveExperiment, withTrestle } from '../session.js';

function experimentRows(items: Experiment[]): string {
  return table(
    ['id', 'name', 'stage', 'created', 'tags'],
    items.map((e) => [
      e.experimentId,
      e.name,
      e.lifecycleStage,
      formatTime(e.creationTime),
      e.tags.map((t) => `${t.key}=${t.value}`).join(' '),
    ]),
  );
}

const list: Command = {
  name: 'list',
  summary: 'List experiments',
  options: {
    filter: {
      type: 'string',
      valueName: 'FILTER',
      description: 'filter, e.g. "name LIKE \'fraud%\'" or "tags.team = \'risk\'"',
    },
    'order-by': {
      type: 'string',
      multiple: true,
      valueName: 'CLAUSE',
      description: "order, e.g. 'name ASC' (default: newest first)",
    },
    all: { type: 'boolean', description: 'include deleted experiments' },
    deleted: { type: 'boolean', description: 'only deleted experiments' },
    'max-results': { type: 'string', valueName: 'N', description: 'at most N experiments (default 1000)' },
  },
  positionals: { max: 0 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend }) => {
      const v = ctx.values;
      const page = await backend.searchExperiments({
        viewType: v['deleted'] === true ? 'DELETED_ONLY' : v['all'] === true ? 'ALL' : 'ACTIVE_ONLY',
        maxResults: parsePositiveInt(v['max-results'], 'max-results', 1000),
        ...(typeof v['filter'] === 'string' ? { filter: v['filter'] } : {}),
        ...(Array.isArray(v['order-by']) ? { orderBy: v['order-by'] } : {}),
      });
      ctx.out.result({ experiments: page.items, nextPageToken: page.nextPageToken }, () =>
        page.items.length === 0 ? 'No experiments.' : experimentRows(page.items),
      );
    }),
};

const create: Command = {
  name: 'create',
  summary: 'Create an experiment',
  usage: 'NAME',
  options: {
    tag: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'set a tag' },
    'artifact-location': { type: 'string', valueName: 'URI', description: 'where its runs store artifacts' },
  },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withTrestle(
      ctx,
      async ({ backend }) => {
        const loc = ctx.values['artifact-location'];
        const experiment = await backend.createExperiment({
          name: ctx.positionals[0]!,
          tags: parseKeyValues(ctx.values['tag'] as string[] | undefined, 'tag'),
          ...(typeof loc === 'string' ? { artifactLocation: loc } : {}),
        });
        ctx.out.result({ experiment }, () => `Created experiment ${experiment.experimentId} '${experiment.name}'.`);
      },
      { create: true },
    ),
};

const rename: Command = {
  name: 'rename',
  summary: 'Rename an experiment',
  usage: 'EXPERIMENT NEW_NAME',
  options: {},
  positionals: { min: 2, max: 2 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend }) => {
      const [which, newName] = ctx.positionals as [string, string];
      const experiment = await resolveExperiment(backend, which);
      await backend.renameExperiment(experiment.experimentId, newName);
      ctx.out.result(
        { experimentId: experiment.experimentId, name: newName },
        () => `Renamed experiment ${experiment.experimentId} '${experiment.name}' to '${newName}'.`,
      );
    }),
};

function lifecycle(name: 'delete' | 'restore'): Command {
  return {
    name,
    summary: name === 'delete' ? 'Delete experiments (and hide their runs); restorable' : 'Restore deleted experiments',
    usage: 'EXPERIMENT [EXPERIMENT...]',
    options: {},
    positionals: { min: 1 },
    run: (ctx) =>
      withTrestle(ctx, async ({ backend }) => {
        const done: string[] = [];
        for (const which of ctx.positionals) {
          const experiment = await resolveExperiment(backend, which);
          if (name === 'delete') await backend.deleteExperiment(experiment.experimentId);
          else await backend.restoreExperiment(experiment.experimentId);
          done.push(experiment.experimentId);
        }
        ctx.out.result(
          { [name === 'delete' ? 'deleted' : 'restored']: done },
          () =>
            `${name === 'delete' ? 'Deleted' : 'Restored'} experiment(s) ${done.join(', ')}.${name === 'delete' ? " Undo with 'trestle experiments restore'." : ''}`,
        );
      }),
  };
}

export const experiments: CommandGroup = {
  name: 'experiments',
  summary: 'Create, list, rename and delete experiments',
  commands: [list, create, rename, lifecycle('delete'), lifecycle('restore')],
};
