import { performance } from 'node:perf_hooks';
import type { Command } from '../framework/command.js';
import { UsageError } from '../framework/command.js';
import type { ColumnType, WritableColumn } from '@trestle/tables';

/**
 * `trestle predict MODEL_URI --data FILE [--out FILE]`: batch scoring in chunks, so a file
 * larger than memory streams through. Writes the input columns and the predictions (the
 * label and class probabilities for a classifier, the value for a regressor) as CSV.
 */
export const predict: Command = {
  name: 'predict',
  summary: 'Score a CSV or Parquet file with a model, in chunks, to CSV',
  usage: 'MODEL_URI',
  description: [
    'MODEL_URI: a package folder, runs:/<run id>/<path>, models:/<name>/<version> or models:/<name>@<alias>.',
    'Reads --data in chunks, checks each against the model signature (errors name the line and column),',
    'and writes the input columns plus the predictions to --out (default: stdout) as CSV.',
  ].join('\n'),
  options: {
    data: { type: 'string', valueName: 'FILE', description: 'rows to score (.csv, .tsv or .parquet)' },
    out: {
      type: 'string',
      valueName: 'FILE',
      description: 'CSV to write (written whole or not at all; default stdout)',
    },
    'chunk-rows': { type: 'string', valueName: 'N', description: 'rows per chunk (default 65536)' },
    flavor: {
      type: 'string',
      valueName: 'builtin|onnx',
      description: "predict with this flavor instead of the package's default",
    },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    const [uri] = ctx.positionals as [string];
    const data = ctx.values['data'];
    if (typeof data !== 'string') throw new UsageError('--data FILE is required');
    const out = typeof ctx.values['out'] === 'string' ? ctx.values['out'] : undefined;
    const flavor = ctx.values['flavor'];
    if (flavor !== undefined && flavor !== 'builtin' && flavor !== 'onnx')
      throw new UsageError(`--flavor is builtin or onnx, got '${String(flavor)}'`);
    const chunkRows = ctx.values['chunk-rows'] === undefined ? 65_536 : Number(ctx.values['chunk-rows']);
    if (!Number.isSafeInteger(chunkRows) || chunkRows <= 0)
      throw new UsageError(`--chunk-rows expects a positive integer, got '${String(ctx.values['chunk-rows'])}'`);
    if (out === undefined && ctx.out.json)
      throw new UsageError('--json needs --out FILE (the predictions go to the file, the summary to stdout)');

    const { loadModel } = await import('@trestle/models');
    const { readTableChunks, readTableSchema, CsvWriter, tableFormat } = await import('@trestle/tables');
    tableFormat(data);
    const started = performance.now();
    const { Trestle } = await import('@trestle/client');
    const needsStore = uri.startsWith('runs:') || uri.startsWith('models:');
    // Reading a model never creates a store.
    const trestle = needsStore ? await Trestle.connect({ config: ctx.config, create: false }) : undefined;
    const model = await (async () => {
      try {
        return await loadModel(uri, {
          ...(trestle === undefined ? {} : { source: trestle }),
          ...(flavor === undefined ? {} : { flavor }),
        });
      } finally {
        await trestle?.close();
      }
    })();
    try {
      ctx.out.info(
        `Model ${uri}${model.version === undefined ? '' : ` (${model.version.name} version ${model.version.version})`}: ${model.manifest.task}, flavor ${model.flavor}`,
      );
      // The model's inputs are parsed as the signature says; other columns pass through as text.
      const fileColumns = await readTableSchema(data);
      const schema: Record<string, ColumnType> = {};
      for (const c of fileColumns) schema[c.name] = 'string';
      for (const s of model.signature.inputs) if (schema[s.name] !== undefined) schema[s.name] = s.type;
      const outputNames = model.signature.outputs.map((o) => o.name);
      const inputNames = fileColumns.map((c) => c.name);
      const clash = outputNames.filter((n) => inputNames.includes(n));
      const header = [...inputNames, ...outputNames.map((n) => (clash.includes(n) ? `prediction_${n}` : n))];
      const sink = out === undefined ? undefined : await CsvWriter.open(out, header);
      let rows = 0;
      let chunks = 0;
      let lastPrint = performance.now();
      try {
        for await (const chunk of readTableChunks(data, { chunkRows, schema })) {
          let predictions;
          try {
            predictions = await model.predict(chunk.columns);
          } catch (err) {
            // Point at the file line of the row the model refused.
            const details = (err as { details?: { row?: number } }).details;
            if (details?.row !== undefined && chunk.lines !== undefined) {
              (err as Error).message = `${data} line ${chunk.lines[details.row]}: ${(err as Error).message}`;
            } else if (details?.row !== undefined) {
              (err as Error).message = `${data} row ${chunk.offset + details.row + 1}: ${(err as Error).message}`;
            }
            throw err;
          }
          const columns: Record<string, WritableColumn> = { ...chunk.columns };
          for (const name of outputNames) {
            columns[clash.includes(name) ? `prediction_${name}` : name] = predictions.outputs[name] as
              Float64Array | string[];
          }
          if (sink !== undefined) await sink.write(columns);
          else {
            const text = csvText(header, columns, chunk.rows, rows === 0);
            ctx.out.result(undefined, () => text);
          }
          rows += chunk.rows;
          chunks++;
          if (performance.now() - lastPrint > 1000) {
            lastPrint = performance.now();
            ctx.out.info(`  ${rows.toLocaleString('en-US')} rows scored …`);
          }
        }
        await sink?.close();
      } catch (err) {
        await sink?.abort();
        throw err;
      }
      const seconds = (performance.now() - started) / 1000;
      const summary = {
        model: uri,
        flavor: model.flavor,
        rows,
        chunks,
        out: out ?? null,
        columns: header,
        seconds: Number(seconds.toFixed(2)),
      };
      if (out !== undefined) {
        ctx.out.result(
          summary,
          () =>
            `${rows.toLocaleString('en-US')} rows scored in ${seconds.toFixed(1)} s (${chunks} chunk${chunks === 1 ? '' : 's'}) → ${out}`,
        );
      }
    } finally {
      await model.close();
    }
  },
};

function csvText(
  header: readonly string[],
  columns: Record<string, unknown>,
  rows: number,
  withHeader: boolean,
): string {
  // Small helper for stdout: the CsvWriter's atomic file is for --out.
  const quote = (s: string): string => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const cell = (c: unknown, i: number): string => {
    if (c instanceof Float64Array) return Number.isNaN(c[i]) ? '' : String(c[i]);
    if (Array.isArray(c)) {
      const v = c[i] as unknown;
      return v === null || v === undefined ? '' : quote(typeof v === 'string' ? v : JSON.stringify(v));
    }
    const col = c as { type: string; codes?: Int32Array; dictionary?: string[]; values?: Float64Array };
    if (col.type === 'string') {
      const code = col.codes![i]!;
      return code < 0 ? '' : quote(col.dictionary![code]!);
    }
    const v = col.values![i]!;
    return Number.isNaN(v) ? '' : String(v);
  };
  const lines: string[] = withHeader ? [header.map(quote).join(',')] : [];
  for (let i = 0; i < rows; i++) lines.push(header.map((h) => cell(columns[h], i)).join(','));
  return lines.join('\n');
}
