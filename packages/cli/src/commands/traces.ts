import type { ArtifactStore, MetadataStore, TraceInfo } from '@trestle/core';
import {
  TRACE_DATA_FILE,
  TRACE_NAME_TAG,
  TRACE_SOURCE_RUN_METADATA,
  isTrestleError,
  TrestleError,
  traceArtifactKey,
} from '@trestle/core';
import { UsageError, type Command, type CommandContext, type CommandGroup } from '../framework/command.js';
import { formatDuration, formatTime, table } from '../framework/output.js';
import { parsePositiveInt, resolveExperiment } from '../session.js';

// Traces are recorded by MLflow clients through `trestle server` (MLflow's trace API); these
// commands read the store of this configuration directly, as `trestle tokens` does.
const STORE_NOTE =
  'Traces are what MLflow clients (mlflow.trace, autolog) record through `trestle server`. Works on the store of this configuration (--db or TRESTLE_DB).';

/** Opens this configuration's stores (never creating them: these commands only read or delete). */
async function withStores<T>(
  ctx: CommandContext,
  fn: (store: MetadataStore, artifacts: ArtifactStore) => Promise<T>,
): Promise<T> {
  const { openStores } = await import('@trestle/store');
  const { metadata, artifacts } = await openStores(ctx.config, process.cwd(), { create: false });
  try {
    return await fn(metadata, artifacts);
  } finally {
    await metadata.close();
    await artifacts.close();
  }
}

function traceRows(items: readonly TraceInfo[]): string {
  return table(
    ['trace id', 'experiment', 'started', 'duration', 'state', 'name', 'run'],
    items.map((t) => [
      t.traceId,
      t.experimentId,
      formatTime(t.requestTime),
      formatDuration(t.executionDuration),
      t.state,
      t.tags[TRACE_NAME_TAG],
      t.metadata[TRACE_SOURCE_RUN_METADATA],
    ]),
  );
}

async function experimentIds(store: MetadataStore, which: readonly string[]): Promise<string[]> {
  if (which.length > 0) return Promise.all(which.map(async (w) => (await resolveExperiment(store, w)).experimentId));
  const page = await store.searchExperiments({ maxResults: 1000 });
  return page.items.map((e) => e.experimentId);
}

/** A trace's record, or a readable failure naming the list command. */
async function traceInfo(store: MetadataStore, traceId: string): Promise<TraceInfo> {
  try {
    return await store.traces.getTraceInfo(traceId);
  } catch (err) {
    if (isTrestleError(err, 'NOT_FOUND')) {
      throw new TrestleError(
        'NOT_FOUND',
        `trace '${traceId}' does not exist in this store; 'trestle traces list' shows the traces there are`,
        { traceId },
        { cause: err },
      );
    }
    throw err;
  }
}

const list: Command = {
  name: 'list',
  summary: 'List traces, newest first',
  description: STORE_NOTE,
  options: {
    experiment: {
      type: 'string',
      multiple: true,
      valueName: 'EXPERIMENT',
      description: 'experiment id or name (default: every active experiment)',
    },
    filter: {
      type: 'string',
      valueName: 'FILTER',
      description: "MLflow's trace filter, e.g. \"trace.status = 'ERROR'\" or \"metadata.mlflow.sourceRun = '<run>'\"",
    },
    'order-by': {
      type: 'string',
      multiple: true,
      valueName: 'CLAUSE',
      description: "order, e.g. 'execution_time_ms DESC' (default: newest first)",
    },
    'max-results': { type: 'string', valueName: 'N', description: 'at most N traces (default 100, at most 500)' },
  },
  positionals: { max: 0 },
  run: (ctx) =>
    withStores(ctx, async (store) => {
      const v = ctx.values;
      const ids = await experimentIds(store, (v['experiment'] as string[] | undefined) ?? []);
      const maxResults = parsePositiveInt(v['max-results'], 'max-results', 100);
      if (maxResults > 500) throw new UsageError(`--max-results is at most 500, got ${maxResults}`);
      const page =
        ids.length === 0
          ? { items: [] as TraceInfo[] }
          : await store.traces.searchTraces({
              experimentIds: ids,
              maxResults,
              ...(typeof v['filter'] === 'string' ? { filter: v['filter'] } : {}),
              ...(Array.isArray(v['order-by']) ? { orderBy: v['order-by'] } : {}),
            });
      ctx.out.result({ traces: page.items, nextPageToken: page.nextPageToken }, () =>
        page.items.length === 0 ? 'No traces.' : traceRows(page.items),
      );
    }),
};

interface SpanLike {
  name?: unknown;
  span_id?: unknown;
  parent_span_id?: unknown;
  start_time_unix_nano?: unknown;
  end_time_unix_nano?: unknown;
}

/** The spans of a trace's `traces.json`, or undefined when the client has not uploaded it. */
async function readSpans(artifacts: ArtifactStore, info: TraceInfo): Promise<SpanLike[] | undefined> {
  try {
    const stream = await artifacts.get(traceArtifactKey(info.experimentId, info.traceId, TRACE_DATA_FILE));
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { spans?: unknown };
    return Array.isArray(parsed.spans) ? (parsed.spans as SpanLike[]) : [];
  } catch (err) {
    if (isTrestleError(err, 'NOT_FOUND')) return undefined;
    throw err;
  }
}

function spanLines(spans: readonly SpanLike[]): string[] {
  const children = new Map<string, SpanLike[]>();
  const ids = new Set(spans.map((s) => String(s.span_id)));
  const roots: SpanLike[] = [];
  for (const s of spans) {
    const parent = typeof s.parent_span_id === 'string' && s.parent_span_id !== '' ? s.parent_span_id : undefined;
    if (parent === undefined || !ids.has(parent)) roots.push(s);
    else children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (s: SpanLike, depth: number): void => {
    const start = Number(s.start_time_unix_nano);
    const end = Number(s.end_time_unix_nano);
    const ms = Number.isFinite(start) && Number.isFinite(end) ? Math.round((end - start) / 1e6) : undefined;
    lines.push(`${'  '.repeat(depth + 1)}${typeof s.name === 'string' ? s.name : '(unnamed)'}  ${formatDuration(ms)}`);
    for (const c of children.get(String(s.span_id)) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return lines;
}

const show: Command = {
  name: 'show',
  summary: 'Show a trace: its record, tags, metadata and span tree',
  usage: 'TRACE_ID',
  description: STORE_NOTE,
  options: {},
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    withStores(ctx, async (store, artifacts) => {
      const info = await traceInfo(store, ctx.positionals[0]!);
      const spans = await readSpans(artifacts, info);
      ctx.out.result({ trace: info, spans: spans ?? null }, () => {
        const pairs = (m: Record<string, string>): string[] =>
          Object.entries(m).map(([k, v]) => `  ${k} = ${v.length > 120 ? `${v.slice(0, 119)}…` : v}`);
        return [
          `Trace ${info.traceId} (experiment ${info.experimentId})`,
          `  state: ${info.state}   started: ${formatTime(info.requestTime)}   duration: ${formatDuration(info.executionDuration)}`,
          ...(info.requestPreview === undefined ? [] : [`  request:  ${info.requestPreview}`]),
          ...(info.responsePreview === undefined ? [] : [`  response: ${info.responsePreview}`]),
          'Tags:',
          ...pairs(info.tags),
          'Metadata:',
          ...pairs(info.metadata),
          spans === undefined ? `Spans: none uploaded (${TRACE_DATA_FILE} is missing)` : `Spans (${spans.length}):`,
          ...(spans === undefined ? [] : spanLines(spans)),
        ].join('\n');
      });
    }),
};

const remove: Command = {
  name: 'delete',
  summary: 'Delete traces (their records; span files stay in the artifact store)',
  usage: 'TRACE_ID [TRACE_ID...]',
  description: STORE_NOTE,
  options: {},
  positionals: { min: 1 },
  run: (ctx) =>
    withStores(ctx, async (store) => {
      const deleted: string[] = [];
      for (const id of ctx.positionals) {
        const info = await traceInfo(store, id);
        await store.traces.deleteTraces({ experimentId: info.experimentId, traceIds: [info.traceId] });
        deleted.push(info.traceId);
      }
      ctx.out.result({ deleted }, () => `Deleted trace(s) ${deleted.join(', ')}.`);
    }),
};

export const traces: CommandGroup = {
  name: 'traces',
  summary: 'List, show and delete traces recorded by MLflow clients',
  commands: [list, show, remove],
};
