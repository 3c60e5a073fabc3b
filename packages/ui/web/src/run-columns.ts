/**
 * Columns of the runs table: fixed attributes, then params, metrics and tags chosen by the
 * user. A column id is `params.<key>`, `metrics.<key>` or `tags.<key>` (as in the search
 * grammar) and travels in the URL.
 */
import { metricNumber, type WireRun } from './api';
import { formatDuration, formatNumber, formatTime } from './format';

export type ColumnKind = 'attribute' | 'param' | 'metric' | 'tag';

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  label: string;
  width: number;
  /** The order_by identifier; undefined when the column cannot be sorted on. */
  sortField?: string;
  numeric: boolean;
}

const PREFIX: Record<Exclude<ColumnKind, 'attribute'>, string> = { param: 'params', metric: 'metrics', tag: 'tags' };

/** An identifier of the search grammar for `key`, quoted when it is not a plain name. */
function searchIdentifier(prefix: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${prefix}.${key}` : `${prefix}."${key.replace(/"/g, '\\"')}"`;
}

function keyColumn(kind: Exclude<ColumnKind, 'attribute'>, key: string): Column {
  return {
    id: `${PREFIX[kind]}.${key}`,
    kind,
    key,
    label: key,
    width: kind === 'tag' ? 160 : 116,
    sortField: searchIdentifier(PREFIX[kind], key),
    numeric: kind === 'metric',
  };
}

/** Parses a column id from the URL; undefined when it names no params/metrics/tags key. */
export function parseColumnId(id: string): Column | undefined {
  const dot = id.indexOf('.');
  const prefix = id.slice(0, dot);
  const key = id.slice(dot + 1);
  if (dot < 0 || key === '') return undefined;
  if (prefix === 'params') return keyColumn('param', key);
  if (prefix === 'metrics') return keyColumn('metric', key);
  if (prefix === 'tags') return keyColumn('tag', key);
  return undefined;
}

/** The attribute columns always shown, before the chosen ones. */
export const ATTRIBUTE_COLUMNS: readonly Column[] = [
  {
    id: 'run_name',
    kind: 'attribute',
    key: 'run_name',
    label: 'Run',
    width: 220,
    sortField: 'attributes.run_name',
    numeric: false,
  },
  {
    id: 'status',
    kind: 'attribute',
    key: 'status',
    label: 'Status',
    width: 96,
    sortField: 'attributes.status',
    numeric: false,
  },
  {
    id: 'start_time',
    kind: 'attribute',
    key: 'start_time',
    label: 'Started',
    width: 172,
    sortField: 'attributes.start_time',
    numeric: false,
  },
  { id: 'duration', kind: 'attribute', key: 'duration', label: 'Duration', width: 96, numeric: true },
  {
    id: 'user_id',
    kind: 'attribute',
    key: 'user_id',
    label: 'User',
    width: 96,
    sortField: 'attributes.user_id',
    numeric: false,
  },
];

/** One run, indexed for cell lookups (built once per run, not per cell). */
export interface RunRow {
  run: WireRun;
  params: Map<string, string>;
  metrics: Map<string, number>;
  tags: Map<string, string>;
}

export function toRow(run: WireRun): RunRow {
  return {
    run,
    params: new Map(run.data.params.map((p) => [p.key, p.value])),
    metrics: new Map(run.data.metrics.map((m) => [m.key, metricNumber(m.value)])),
    tags: new Map(run.data.tags.map((t) => [t.key, t.value])),
  };
}

/** The text shown in a cell. */
export function cellText(row: RunRow, column: Column): string {
  const info = row.run.info;
  switch (column.kind) {
    case 'param':
      return row.params.get(column.key) ?? '';
    case 'tag':
      return row.tags.get(column.key) ?? '';
    case 'metric': {
      const v = row.metrics.get(column.key);
      return v === undefined ? '' : formatNumber(v);
    }
    case 'attribute':
      switch (column.key) {
        case 'run_name':
          return info.runName;
        case 'status':
          return info.status;
        case 'start_time':
          return formatTime(info.startTime);
        case 'duration':
          return info.endTime === null ? '' : formatDuration(info.endTime - info.startTime);
        case 'user_id':
          return info.userId;
        default:
          return '';
      }
  }
}
