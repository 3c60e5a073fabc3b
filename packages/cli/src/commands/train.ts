import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Trestle } from '@trestle/client';
import { TrestleError } from '@trestle/core';
import type { Command, CommandContext } from '../framework/command.js';
import { UsageError } from '../framework/command.js';
import { formatNumber } from '../framework/output.js';
import { withTrestle } from '../session.js';

/** Where the package goes inside the run's artifacts. */
export const MODEL_ARTIFACT_PATH = 'model';

function list(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseParams(values: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of (values as string[] | undefined) ?? []) {
    const at = kv.indexOf('=');
    if (at <= 0) throw new UsageError(`--param expects KEY=VALUE, got '${kv}'`);
    out[kv.slice(0, at).trim()] = kv.slice(at + 1).trim();
  }
  return out;
}

function parseHoldout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (typeof value !== 'string' || !(v > 0 && v < 1))
    throw new UsageError(`--holdout expects a share in (0, 1), got '${JSON.stringify(value)}'`);
  return v;
}

/**
 * `trestle train gbdt|logistic|linear --data FILE --target COL`: reads the file by column,
 * trains with a progress line, evaluates on a holdout (or `--valid FILE`), and logs the run
 * (params, per-iteration losses, final metrics, dataset inputs with digests, the model
 * package as the artifact `model/`); `--register NAME` makes it the next version of NAME.
 */
export const train: Command = {
  name: 'train',
  summary: 'Train a model on a CSV or Parquet file and log it as a run',
  usage: 'gbdt|logistic|linear',
  description: [
    'Reads --data by column, holds out 20% of its rows for evaluation (or evaluates on --valid),',
    'trains with a progress line, and logs params, per-iteration losses, final metrics, the',
    "datasets with their digests and the model package (artifact 'model/') to a run.",
    'Trainers: gbdt (binary, multiclass; --param task=regression), logistic (binary), linear (regression).',
    'String columns are categorical; --categorical makes numeric columns categorical too.',
    "Params: see each trainer's list in the error for an unknown one, e.g. --param rounds=200.",
  ].join('\n'),
  options: {
    data: { type: 'string', valueName: 'FILE', description: 'training data (.csv, .tsv or .parquet)' },
    target: { type: 'string', valueName: 'COLUMN', description: 'the column to predict' },
    valid: { type: 'string', valueName: 'FILE', description: 'evaluation data (default: a holdout of --data)' },
    features: { type: 'string', valueName: 'A,B,…', description: 'feature columns (default: all but the target)' },
    categorical: { type: 'string', valueName: 'A,B,…', description: 'numeric columns to treat as categories' },
    param: { type: 'string', valueName: 'KEY=VALUE', multiple: true, description: 'trainer setting' },
    holdout: {
      type: 'string',
      valueName: 'SHARE',
      description: 'share of --data held out when there is no --valid (default 0.2)',
    },
    experiment: {
      type: 'string',
      valueName: 'NAME',
      description: 'experiment to log to (default: the configured one)',
    },
    name: { type: 'string', valueName: 'NAME', description: 'run name (default: <trainer>-<data file>)' },
    register: { type: 'string', valueName: 'MODEL', description: 'register the package as the next version of MODEL' },
    alias: {
      type: 'string',
      valueName: 'ALIAS',
      multiple: true,
      description: 'with --register: point this alias at the new version',
    },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    await runTrain(ctx);
  },
};

async function runTrain(ctx: CommandContext): Promise<void> {
  const [trainerName] = ctx.positionals as [string];
  const { trainerNames, trainModel, writeModelPackage } = await import('@trestle/models');
  const { readTable, fileDigest } = await import('@trestle/tables');
  if (!trainerNames().includes(trainerName)) {
    throw new UsageError(`unknown trainer '${trainerName}'; use one of ${trainerNames().join(', ')}`);
  }
  const data = ctx.values['data'];
  const target = ctx.values['target'];
  if (typeof data !== 'string') throw new UsageError('--data FILE is required');
  if (typeof target !== 'string') throw new UsageError('--target COLUMN is required');
  const validPath = typeof ctx.values['valid'] === 'string' ? ctx.values['valid'] : undefined;
  const params = parseParams(ctx.values['param']);
  const holdout = parseHoldout(ctx.values['holdout']);
  const features = list(ctx.values['features']);
  const categorical = list(ctx.values['categorical']) ?? [];
  const registerAs = typeof ctx.values['register'] === 'string' ? ctx.values['register'] : undefined;
  const aliases = (ctx.values['alias'] as string[] | undefined) ?? [];
  if (aliases.length > 0 && registerAs === undefined) throw new UsageError('--alias needs --register MODEL');
  const say = (s: string): void => ctx.out.info(s);
  const started = performance.now();
  const secs = (from: number): string => `${((performance.now() - from) / 1000).toFixed(1)} s`;

  let t = performance.now();
  say(`Reading ${data} …`);
  const [table, digest] = await Promise.all([readTable(data), fileDigest(data)]);
  const valid = validPath === undefined ? undefined : await readTable(validPath);
  const validDigest = validPath === undefined ? undefined : await fileDigest(validPath);
  say(
    `  ${table.rows.toLocaleString('en-US')} rows × ${Object.keys(table.columns).length} columns in ${secs(t)}${valid === undefined ? '' : `; ${valid.rows.toLocaleString('en-US')} evaluation rows from ${validPath}`}`,
  );

  await withTrestle(
    ctx,
    async (trestle) => {
      const experiment = typeof ctx.values['experiment'] === 'string' ? ctx.values['experiment'] : undefined;
      const run = await trestle.startRun({
        ...(experiment === undefined ? {} : { experiment }),
        name:
          typeof ctx.values['name'] === 'string'
            ? ctx.values['name']
            : `${trainerName}-${basename(data).replace(/\.[^.]+$/, '')}`,
        tags: { trainer: trainerName, target },
      });
      const datasets = [
        {
          name: basename(data),
          digest,
          source: pathToFileURL(resolve(data)).href,
          context: 'training',
          rows: table.rows,
        },
        ...(validPath === undefined || valid === undefined
          ? []
          : [
              {
                name: basename(validPath),
                digest: validDigest!,
                source: pathToFileURL(resolve(validPath)).href,
                context: 'evaluation',
                rows: valid.rows,
              },
            ]),
      ];
      let dir: string | undefined;
      try {
        for (const d of datasets) {
          await run.logInput({
            name: d.name,
            digest: d.digest,
            source: JSON.stringify({ uri: d.source }),
            context: d.context,
            profile: JSON.stringify({ num_rows: d.rows }),
          });
        }
        say(`Training ${trainerName} (run ${run.id}) …`);
        t = performance.now();
        let lastPrint = 0;
        const trained = trainModel(table, valid, {
          trainer: trainerName,
          target,
          ...(features === undefined ? {} : { features }),
          categorical,
          params,
          ...(holdout === undefined ? {} : { holdout }),
          onIteration: (iteration, metrics) => {
            for (const [key, value] of Object.entries(metrics)) void run.logMetric(key, value, iteration);
            const now = performance.now();
            if (now - lastPrint > 1000) {
              lastPrint = now;
              const parts = Object.entries(metrics).map(([k, v]) => `${k} ${formatNumber(v)}`);
              say(`  iteration ${iteration}  ${parts.join('  ')}  (${secs(t)})`);
            }
          },
        });
        say(
          `  ${trained.iterations} iterations in ${secs(t)} on ${trained.trainRows.toLocaleString('en-US')} rows; evaluated on ${trained.evalRows.toLocaleString('en-US')}`,
        );
        await run.logParams({ ...trained.params, train_rows: trained.trainRows, eval_rows: trained.evalRows });
        await run.logMetrics(trained.metrics, trained.iterations);
        await run.setTags({ task: trained.task });

        dir = await mkdtemp(join(tmpdir(), 'trestle-train-'));
        const packageDir = join(dir, MODEL_ARTIFACT_PATH);
        const manifest = await writeModelPackage(packageDir, {
          ...trained.contents,
          run: { runId: run.id, experimentId: run.run.info.experimentId, artifactPath: MODEL_ARTIFACT_PATH },
          datasets: datasets.map(({ name, digest: d, source, context, rows }) => ({
            name,
            digest: d,
            source,
            context,
            rows,
          })),
        });
        await run.logArtifact(packageDir, MODEL_ARTIFACT_PATH);
        const finished = await run.end();
        const source = `runs:/${run.id}/${MODEL_ARTIFACT_PATH}`;
        let registered: { name: string; version: number; aliases: string[] } | undefined;
        if (registerAs !== undefined) {
          const version = await registerPackage(trestle, registerAs, source, run.id, aliases);
          registered = { name: registerAs, version: version.version, aliases };
        }
        const summary = {
          runId: finished.info.runId,
          experimentId: finished.info.experimentId,
          status: finished.info.status,
          trainer: trainerName,
          task: trained.task,
          classes: trained.classes,
          metrics: trained.metrics,
          params: trained.params,
          trainRows: trained.trainRows,
          evalRows: trained.evalRows,
          iterations: trained.iterations,
          model: source,
          flavors: Object.keys(manifest.flavors),
          ...(registered === undefined ? {} : { registered }),
          seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
        };
        ctx.out.result(summary, () =>
          [
            '',
            `Run ${finished.info.runId} ${finished.info.status} in ${summary.seconds} s (${trained.task})`,
            ...Object.entries(trained.metrics)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => `  ${k.padEnd(16)} ${formatNumber(v)}`),
            `  model            ${source} (flavors: ${summary.flavors.join(', ')})`,
            ...(registered === undefined
              ? []
              : [
                  `  registered       ${registered.name} version ${registered.version}${aliases.length > 0 ? ` (${aliases.map((a) => `@${a}`).join(', ')})` : ''}`,
                ]),
          ].join('\n'),
        );
      } catch (err) {
        // The run records why it failed, then the error reaches the user.
        const reason = err instanceof Error ? err.message : String(err);
        try {
          await run.setTags({ 'trestle.failure': reason.slice(0, 5000) });
        } catch {
          // the failure itself may be the store: still try to end the run
        }
        await run.end('FAILED').catch(() => undefined);
        throw err instanceof TrestleError || err instanceof UsageError
          ? err
          : new TrestleError('INTERNAL', reason, {}, { cause: err });
      } finally {
        if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      }
    },
    { create: true },
  );
}

/** Registers the logged package as the next version of `name`, recorded with the OS user as the actor. */
async function registerPackage(
  trestle: Trestle,
  name: string,
  source: string,
  runId: string,
  aliases: string[],
): Promise<{ version: number }> {
  let actor: string | undefined;
  try {
    actor = userInfo().username;
  } catch {
    actor = undefined;
  }
  return trestle.registerModel(name, source, { runId, aliases }, actor === undefined || actor === '' ? {} : { actor });
}
