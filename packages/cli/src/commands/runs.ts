import {
  compareRunValues,
  isTrestleError,
  killRun,
  parseFilter,
  parseOrderBy,
  runArtifactKey,
  type ArtifactEntry,
  type ArtifactStore,
  type Run,
  type SearchRunsOptions,
  type TrackingBackend,
} from '@trestle/core';
import { UsageError, type Command, type CommandContext, type CommandGroup } from '../framework/command.js';
import { metrics } from './run-metrics.js';
import { withSpinner } from '../framework/progress.js';
import { formatDuration, formatNumber, formatTime, table } from '../framework/output.js';
import { allExperimentIds, parsePositiveInt, resolveExperiment, resolveRunId, withTrestle } from '../session.js';

const MAX_LISTED_ARTIFACTS = 200;

/** The files under `dir`, depth first, at most `limit` of them. */
async function listFiles(store: ArtifactStore, dir: string, limit: number): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  const pending = [dir];
  while (pending.length > 0 && out.length < limit) {
    for (const entry of await store.list(pending.shift())) {
      if (entry.isDir) pending.push(entry.path);
      else if (out.length < limit) out.push(entry);
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

const RUN_COLUMNS = ['run id', 'name', 'experiment', 'status', 'started', 'duration'];

function runRow(r: Run, metricKeys: string[], experimentNames: Map<string, string>): (string | number)[] {
  const metrics = new Map(r.data.metrics.map((m) => [m.key, m.value]));
  return [
    r.info.runId,
    r.info.runName,
    experimentNames.get(r.info.experimentId) ?? r.info.experimentId,
    r.info.lifecycleStage === 'deleted' ? `${r.info.status} (deleted)` : r.info.status,
    formatTime(r.info.startTime),
    formatDuration(r.info.endTime === null ? null : r.info.endTime - r.info.startTime),
    ...metricKeys.map((k) => (metrics.has(k) ? formatNumber(metrics.get(k)!) : '-')),
  ];
}

/**
 * A table of runs with a column for each of the first few metric keys they share; experiments
 * by name, deleted runs marked `(deleted)` in the status column.
 */
function runTable(runs: Run[], experimentNames: Map<string, string>): string {
  if (runs.length === 0) return 'No runs.';
  const keys = [...new Set(runs.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort().slice(0, 4);
  return table(
    [...RUN_COLUMNS, ...keys],
    runs.map((r) => runRow(r, keys, experimentNames)),
  );
}

/** Names of the experiments of `runs` (deleted experiments included). */
async function experimentNamesOf(backend: TrackingBackend, runs: Run[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of new Set(runs.map((r) => r.info.experimentId))) {
    try {
      names.set(id, (await backend.getExperiment(id)).name);
    } catch (err) {
      if (!isTrestleError(err, 'NOT_FOUND')) throw err;
    }
  }
  return names;
}

/** Checks a filter and order-by clauses here, so that a typo is a usage error (exit 2). */
function checkSearchSyntax(filter: unknown, orderBy: unknown): void {
  try {
    if (typeof filter === 'string') parseFilter(filter, 'runs');
    if (Array.isArray(orderBy)) parseOrderBy(orderBy as string[], 'runs');
  } catch (err) {
    if (isTrestleError(err, 'INVALID_ARGUMENT')) throw new UsageError(err.message);
    throw err;
  }
}

async function experimentIds(ctx: CommandContext, backend: TrackingBackend): Promise<string[]> {
  const named = ctx.values['experiment'];
  if (Array.isArray(named) && named.length > 0) {
    return Promise.all(named.map(async (e) => (await resolveExperiment(backend, e)).experimentId));
  }
  return allExperimentIds(backend, 'ACTIVE_ONLY');
}

const searchOptions = {
  experiment: {
    type: 'string',
    multiple: true,
    valueName: 'EXPERIMENT',
    description: 'experiment id or name (default: all)',
  },
  'max-results': { type: 'string', valueName: 'N', description: 'at most N runs' },
  'page-token': { type: 'string', valueName: 'TOKEN', description: 'continue from a previous page' },
  all: { type: 'boolean', description: 'include deleted runs' },
} as const;

function searchCommand(name: 'list' | 'search'): Command {
  const isSearch = name === 'search';
  return {
    name,
    summary: isSearch ? 'Search runs with a filter, ordered' : 'List recent runs',
    ...(isSearch
      ? {
          description: [
            "Filter grammar (MLflow's, plus OR and parentheses):",
            "  metrics.auc > 0.7 AND params.l2 = '0.1'",
            "  (tags.team = 'ops' OR tags.team = 'risk') AND attributes.status = 'FINISHED'",
            "  run_name LIKE 'lr-%'   datasets.context = 'training'   created > 1717000000000",
          ].join('\n'),
        }
      : {}),
    options: {
      ...searchOptions,
      ...(isSearch
        ? {
            filter: { type: 'string', valueName: 'FILTER', description: 'search filter (see above)' },
            'order-by': {
              type: 'string',
              multiple: true,
              valueName: 'CLAUSE',
              description: "e.g. 'metrics.auc DESC' (repeatable)",
            },
          }
        : {}),
    },
    positionals: { max: 0 },
    run: (ctx) =>
      withTrestle(ctx, async ({ backend }) => {
        const v = ctx.values;
        checkSearchSyntax(v['filter'], v['order-by']);
        const options: SearchRunsOptions = {
          experimentIds: await experimentIds(ctx, backend),
          viewType: v['all'] === true ? 'ALL' : 'ACTIVE_ONLY',
          maxResults: parsePositiveInt(v['max-results'], 'max-results', isSearch ? 1000 : 50),
          ...(typeof v['filter'] === 'string' ? { filter: v['filter'] } : {}),
          ...(Array.isArray(v['order-by']) ? { orderBy: v['order-by'] } : {}),
          ...(typeof v['page-token'] === 'string' ? { pageToken: v['page-token'] } : {}),
        };
        const { page, names } = await withSpinner(process.stderr, ctx.out.json, 'searching runs', async () => {
          const found = await backend.searchRuns(options);
          return {
            page: found,
            names: ctx.out.json ? new Map<string, string>() : await experimentNamesOf(backend, found.items),
          };
        });
        ctx.out.result({ runs: page.items, nextPageToken: page.nextPageToken }, () =>
          [
            runTable(page.items, names),
            ...(page.nextPageToken === undefined ? [] : [`More: --page-token ${page.nextPageToken}`]),
          ].join('\n'),
        );
      }),
  };
}

const show: Command = {
  name: 'show',
  summary: 'Show a run: params, metrics, tags, datasets and artifacts',
  usage: 'RUN_ID',
  options: {},
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend, artifacts }) => {
      const run = await backend.getRun(await resolveRunId(backend, ctx.positionals[0]!));
      const experimentName = (await experimentNamesOf(backend, [run])).get(run.info.experimentId);
      const prefix = `${runArtifactKey(run.info)}/`;
      const files = await listFiles(artifacts, runArtifactKey(run.info), MAX_LISTED_ARTIFACTS);
      const artifactList = files.map((f) => ({
        ...f,
        path: f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path,
      }));
      ctx.out.result({ run, artifacts: artifactList }, () => {
        const i = run.info;
        const lines = [
          `Run ${i.runId} (${i.runName})`,
          `  experiment  ${experimentName === undefined ? i.experimentId : `${experimentName} (id ${i.experimentId})`}`,
          `  status      ${i.status}${i.lifecycleStage === 'deleted' ? ' (deleted)' : ''}`,
          `  started     ${formatTime(i.startTime)}`,
          `  ended       ${formatTime(i.endTime)}${i.endTime === null ? '' : ` (${formatDuration(i.endTime - i.startTime)})`}`,
          `  artifacts   ${i.artifactUri}`,
        ];
        const section = (title: string, body: string): void =>
          void lines.push('', title, ...body.split('\n').map((l) => `  ${l}`));
        if (run.data.params.length > 0)
          section(
            'Params',
            table(
              ['key', 'value'],
              run.data.params.map((p) => [p.key, p.value]),
            ),
          );
        if (run.data.metrics.length > 0) {
          section(
            'Metrics (latest)',
            table(
              ['key', 'value', 'step'],
              run.data.metrics.map((m) => [m.key, formatNumber(m.value), m.step]),
            ),
          );
        }
        const tags = run.data.tags.filter((t) => !t.key.startsWith('mlflow.'));
        if (tags.length > 0)
          section(
            'Tags',
            table(
              ['key', 'value'],
              tags.map((t) => [t.key, t.value]),
            ),
          );
        const inputs = run.inputs.datasetInputs;
        if (inputs.length > 0) {
          section(
            'Datasets',
            table(
              ['name', 'digest', 'context', 'source'],
              inputs.map((d) => [
                d.dataset.name,
                d.dataset.digest.slice(0, 12),
                d.tags.find((t) => t.key === 'mlflow.data.context')?.value,
                d.dataset.source,
              ]),
            ),
          );
        }
        if (artifactList.length > 0)
          section(
            'Artifacts',
            table(
              ['path', 'size'],
              artifactList.map((f) => [f.path, f.size]),
            ),
          );
        return lines.join('\n');
      });
    }),
};

const compare: Command = {
  name: 'compare',
  summary: 'Compare runs side by side (params and latest metrics; * marks differences)',
  usage: 'RUN_ID RUN_ID [RUN_ID...]',
  options: {},
  positionals: { min: 2 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend }) => {
      const runs: Run[] = [];
      const seen = new Set<string>();
      for (const id of ctx.positionals) {
        const runId = await resolveRunId(backend, id);
        if (seen.has(runId)) continue;
        seen.add(runId);
        runs.push(await backend.getRun(runId));
      }
      if (runs.length < 2) throw new UsageError('compare needs at least two different runs');
      // What is printed is what is compared: 0.58401 and 0.58399 both print 0.584, so they do not differ here.
      const shown = (v: string | number | null): string =>
        v === null ? '-' : typeof v === 'number' ? formatNumber(v) : v;
      const compared = compareRunValues(runs, shown);
      const rows = [
        ...compared.params.map((p) => ({ kind: 'param' as const, ...p })),
        ...compared.metrics.map((m) => ({ kind: 'metric' as const, ...m })),
      ].map((r) => ({ ...r, values: r.values.map((v) => v ?? undefined) }));
      ctx.out.result(
        {
          runs: runs.map((r) => ({ runId: r.info.runId, runName: r.info.runName, status: r.info.status })),
          rows,
        },
        () =>
          table(
            ['', 'key', ...runs.map((r) => `${r.info.runName} (${r.info.runId.slice(0, 8)})`)],
            rows.map((r) => [
              r.differs ? '*' : ' ',
              `${r.kind === 'param' ? 'params' : 'metrics'}.${r.key}`,
              ...r.values.map((v) => shown(v ?? null)),
            ]),
            { keepHeaderCase: true },
          ),
      );
    }),
};

function lifecycle(name: 'delete' | 'restore'): Command {
  return {
    name,
    summary: name === 'delete' ? 'Delete runs (restorable)' : 'Restore deleted runs',
    usage: 'RUN_ID [RUN_ID...]',
    options: {},
    positionals: { min: 1 },
    run: (ctx) =>
      withTrestle(ctx, async ({ backend }) => {
        const done: string[] = [];
        const unchanged: string[] = [];
        for (const id of ctx.positionals) {
          const runId = await resolveRunId(backend, id);
          if (done.includes(runId) || unchanged.includes(runId)) continue;
          const stage = (await backend.getRun(runId)).info.lifecycleStage;
          if (stage === (name === 'delete' ? 'deleted' : 'active')) {
            unchanged.push(runId);
            continue;
          }
          if (name === 'delete') await backend.deleteRun(runId);
          else await backend.restoreRun(runId);
          done.push(runId);
        }
        const verb = name === 'delete' ? 'Deleted' : 'Restored';
        ctx.out.result({ [name === 'delete' ? 'deleted' : 'restored']: done, unchanged }, () =>
          [
            ...(done.length > 0 || unchanged.length === 0
              ? [`${verb} ${done.length} run(s)${done.length > 0 ? `: ${done.join(', ')}` : ''}`]
              : []),
            ...unchanged.map(
              (r) => `Run ${r} was ${name === 'delete' ? 'already deleted' : 'not deleted'}; left as it is`,
            ),
          ].join('\n'),
        );
      }),
  };
}

const kill: Command = {
  name: 'kill',
  summary: 'Mark runs whose process died (kill -9) as KILLED',
  usage: 'RUN_ID [RUN_ID...]',
  description: [
    'A run still RUNNING becomes KILLED, with the end time now. A run that already ended keeps its',
    'status: killing it changes nothing. A script that ends badly ends its runs itself (an error:',
    'FAILED, Ctrl-C or SIGTERM: KILLED); this is for the runs of processes that could not (kill -9).',
  ].join('\n'),
  options: {},
  positionals: { min: 1 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend }) => {
      const ids: string[] = [];
      for (const id of ctx.positionals) {
        const runId = await resolveRunId(backend, id);
        if (!ids.includes(runId)) ids.push(runId);
      }
      const killed: string[] = [];
      const unchanged: { runId: string; status: string }[] = [];
      for (const runId of ids) {
        const result = await killRun(backend, runId);
        if (result.killed) killed.push(runId);
        else unchanged.push({ runId, status: result.run.status });
      }
      ctx.out.result({ killed, unchanged }, () =>
        [
          ...(killed.length > 0 ? [`Killed ${killed.length} run(s): ${killed.join(', ')}`] : []),
          ...unchanged.map((u) => `Run ${u.runId} had already ended (${u.status}); left as it is`),
        ].join('\n'),
      );
    }),
};

export const runs: CommandGroup = {
  name: 'runs',
  summary: 'List, show, search, compare, kill and delete runs',
  commands: [
    searchCommand('list'),
    show,
    metrics,
    searchCommand('search'),
    compare,
    kill,
    lifecycle('delete'),
    lifecycle('restore'),
  ],
};
