/**
 * prepare: reads the flights of the training and test windows from vega-datasets'
 * flights-3m.parquet and writes them as tables (data/train.csv, data/test.csv) with the
 * columns the model may see (known before departure) and the label `late`, plus
 * data/summary.json (row counts, late rates). It also writes data/traffic.csv: an evenly spaced
 * sample of the later flights (February–June by default, ordered in time, with their `date`)
 * that the quickstart's serving demo replays as traffic; the evaluation uses only data/test.csv.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { CsvWriter } from '@trestle/tables';
import {
  fileDigest,
  flightTableColumns,
  loadFlights,
  selectRows,
  type TimeRange,
} from '@trestle/cli/quickstart/flights-data';
import { numberParam, stageParams } from './params.js';

const FILE = 'node_modules/vega-datasets/data/flights-3m.parquet';

const p = stageParams('prepare');
const day = (key: string): number => {
  const ms = Date.parse(`${String(p[key])}T00:00:00Z`);
  if (!Number.isFinite(ms))
    throw new Error(`params.yaml: prepare.${key} must be a date (YYYY-MM-DD), got ${JSON.stringify(p[key])}`);
  return ms;
};
const train: TimeRange = { fromMs: day('train_from'), toMs: day('train_to') };
const test: TimeRange = { fromMs: day('test_from'), toMs: day('test_to') };
const traffic: TimeRange = { fromMs: day('traffic_from'), toMs: day('traffic_to') };
const maxRows = numberParam(p, 'max_rows');
const trafficRows = numberParam(p, 'traffic_rows');

/** At most `max` of `rows`, evenly spaced (every k-th), so a slice still covers the whole window. */
function thin(rows: Int32Array, max: number): Int32Array {
  if (max <= 0 || rows.length <= max) return rows;
  const step = rows.length / max;
  return Int32Array.from({ length: max }, (_, i) => rows[Math.floor(i * step)]!);
}

const t0 = performance.now();
const range = {
  fromMs: Math.min(train.fromMs, test.fromMs, traffic.fromMs),
  toMs: Math.max(train.toMs, test.toMs, traffic.toMs),
};
const [cols, digest] = await Promise.all([loadFlights({ path: FILE, range }), fileDigest(FILE)]);
console.log(
  `read ${cols.rows.toLocaleString('en-US')} flights in ${((performance.now() - t0) / 1000).toFixed(1)} s (flights-3m.parquet sha256 ${digest.slice(0, 12)}…)`,
);

mkdirSync('data', { recursive: true });
const summary: Record<string, unknown> = { source: FILE, sha256: digest, read: cols.rows, maxRows };
for (const [name, window, max] of [
  ['train', train, maxRows],
  ['test', test, maxRows],
  ['traffic', traffic, trafficRows],
] as const) {
  const rows = thin(selectRows(cols, window), max);
  const table = flightTableColumns(cols, rows);
  const { rows: _rows, ...columns } = table;
  // The traffic keeps the day each flight departed (what it was selected and ordered by): the
  // demo shows which days it replays; the model never sees it.
  const withDate =
    name === 'traffic'
      ? { date: Array.from(rows, (r) => new Date(cols.departureMs[r]!).toISOString().slice(0, 10)), ...columns }
      : columns;
  const out = await CsvWriter.open(`data/${name}.csv`, Object.keys(withDate));
  await out.write(withDate);
  await out.close();
  const late = table.late.reduce((a, b) => a + b, 0);
  summary[name] = {
    from: new Date(window.fromMs).toISOString().slice(0, 10),
    to: new Date(window.toMs - 86_400_000).toISOString().slice(0, 10), // the last day
    rows: table.rows,
    lateRate: table.rows === 0 ? 0 : late / table.rows,
  };
  console.log(
    `${name}: ${table.rows.toLocaleString('en-US')} flights, ${((100 * late) / Math.max(1, table.rows)).toFixed(1)}% arrive more than 15 min late → data/${name}.csv`,
  );
}
writeFileSync('data/summary.json', `${JSON.stringify(summary, null, 2)}\n`);
