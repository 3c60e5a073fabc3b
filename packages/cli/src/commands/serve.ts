import { UsageError, type Command } from '../framework/command.js';
import { parseHost } from './server.js';

const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function intOption(values: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} expects a whole number from ${min} to ${max}, got '${shown(v)}'`);
  }
  return n;
}

/**
 * `trestle serve MODEL_URI`: the inference server (V2, MLflow scoring, /predict, /metrics),
 * with micro-batching, hot-swap on alias moves, canary/shadow and inference logging.
 *
 * @example
 * trestle serve models:/flights-delay@champion --port 8080
 */
export const serve: Command = {
  name: 'serve',
  summary: 'Serve a model over HTTP (Open Inference Protocol V2, MLflow /invocations, /predict) until Ctrl-C',
  usage: 'MODEL_URI',
  description: [
    'MODEL_URI is models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH, a model package folder,',
    'or an MLflow model folder with the onnx flavor. A models:/NAME@ALIAS model is hot-swapped when the',
    'alias moves. Inference logs and per-minute feature summaries go to the tracking server',
    '(TRESTLE_TRACKING_URI or --control-plane), spooled to disk while it is unreachable.',
  ].join('\n'),
  options: {
    host: { type: 'string', valueName: 'HOST', description: 'interface to listen on (default 127.0.0.1)' },
    port: { type: 'string', valueName: 'PORT', description: 'TCP port (default 8080; 0 picks a free one)' },
    workers: { type: 'string', valueName: 'N', description: 'processes sharing the port (default 1)' },
    flavor: {
      type: 'string',
      valueName: 'FLAVOR',
      description: "predict with 'builtin' or 'onnx' (default: the package's)",
    },
    'no-batching': { type: 'boolean', description: 'one predict call per request (micro-batching is on by default)' },
    'max-batch': { type: 'string', valueName: 'ROWS', description: 'most rows per predict call (default 256)' },
    'max-wait': {
      type: 'string',
      valueName: 'MS',
      description: 'longest a batch waits for more rows while the model is free (default 0)',
    },
    'max-queue': {
      type: 'string',
      valueName: 'ROWS',
      description: 'rows queued or running before answering 503 (default 65536)',
    },
    challenger: {
      type: 'string',
      valueName: 'URI',
      description: 'a second model (e.g. models:/NAME@challenger) for --canary or --shadow',
    },
    canary: { type: 'string', valueName: 'PERCENT', description: 'share of requests the challenger answers' },
    shadow: {
      type: 'boolean',
      description: 'the challenger predicts a copy of every request; only the champion answers',
    },
    'control-plane': {
      type: 'string',
      valueName: 'URL',
      description: 'Trestle server for inference logs (default TRESTLE_TRACKING_URI)',
    },
    'no-logging': { type: 'boolean', description: 'do not log inferences' },
    spool: {
      type: 'string',
      valueName: 'DIR',
      description: 'spool folder while the control plane is away (default .trestle/spool/NAME)',
    },
    window: { type: 'string', valueName: 'SECONDS', description: 'length of a feature-summary window (default 60)' },
  },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const v = ctx.values;
    const uri = ctx.positionals[0]!;
    const host = parseHost(v['host']);
    const port = intOption(v, 'port', 0, 65535) ?? 8080;
    const workers = intOption(v, 'workers', 1, 64) ?? 1;
    const flavor = v['flavor'];
    if (flavor !== undefined && flavor !== 'builtin' && flavor !== 'onnx') {
      throw new UsageError(`--flavor expects builtin or onnx, got '${shown(flavor)}'`);
    }
    const canary = intOption(v, 'canary', 0, 100);
    const shadow = v['shadow'] === true;
    const challenger = typeof v['challenger'] === 'string' ? v['challenger'] : undefined;
    if ((canary !== undefined || shadow) && challenger === undefined) {
      throw new UsageError('--canary and --shadow need --challenger URI');
    }
    if (canary !== undefined && shadow) throw new UsageError('choose --canary or --shadow, not both');
    if (challenger !== undefined && canary === undefined && !shadow) {
      throw new UsageError('--challenger needs --canary PERCENT or --shadow');
    }
    const maxBatch = intOption(v, 'max-batch', 1, 1_000_000);
    const maxWait = intOption(v, 'max-wait', 0, 10_000);
    const maxQueue = intOption(v, 'max-queue', 1, 100_000_000);
    const windowSeconds = intOption(v, 'window', 1, 86_400);
    const controlPlane =
      v['no-logging'] === true ? false : typeof v['control-plane'] === 'string' ? v['control-plane'] : undefined;

    const cluster = (await import('node:cluster')).default;
    if (workers > 1 && cluster.isPrimary) {
      ctx.out.info(`Starting ${workers} worker processes on port ${port}…`);
      // /metrics in any worker answers for all of them, gathered here.
      (await import('@trestle/serving')).serveClusterMetrics();
      const children = Array.from({ length: workers }, () => cluster.fork());
      const stop = (): void => {
        for (const c of children) c.process.kill('SIGTERM');
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await new Promise<void>((resolve) => {
        let left = workers;
        cluster.on('exit', () => {
          if (--left === 0) resolve();
        });
      });
      return;
    }

    ctx.out.info(`Loading ${uri}…`);
    const { serveModel } = await import('@trestle/serving');
    const worker = cluster.isWorker ? `-${cluster.worker?.id ?? process.pid}` : '';
    const served = await serveModel({
      uri,
      config: ctx.config,
      host,
      port,
      ...(flavor === undefined ? {} : { flavor: flavor }),
      batching: {
        ...(v['no-batching'] === true ? { enabled: false } : {}),
        ...(maxBatch === undefined ? {} : { maxBatchRows: maxBatch }),
        ...(maxWait === undefined ? {} : { maxWaitMs: maxWait }),
        ...(maxQueue === undefined ? {} : { maxQueueRows: maxQueue }),
      },
      ...(challenger === undefined ? {} : { challenger }),
      ...(canary !== undefined
        ? { traffic: { kind: 'canary' as const, percent: canary } }
        : shadow
          ? { traffic: { kind: 'shadow' as const } }
          : {}),
      ...(controlPlane === undefined ? {} : { controlPlane }),
      ...(typeof v['spool'] === 'string' ? { spoolDir: v['spool'] } : {}),
      // Two workers appending to one spool would interleave and delete each other's segments.
      ...(worker === '' ? {} : { spoolSuffix: worker }),
      ...(windowSeconds === undefined ? {} : { windowMs: windowSeconds * 1000 }),
      log: (line) => process.stderr.write(`serve: ${line}\n`),
    });
    const { running } = served;
    if (cluster.isWorker) (await import('@trestle/serving')).joinClusterMetrics(running.metrics);
    const champion = running.router.champion;
    const name = champion.predictor.name;
    const example = Object.fromEntries(
      champion.predictor.signature.inputs.map((i) => [i.name, i.type === 'string' ? 'A' : 1]),
    );
    if (!cluster.isWorker || cluster.worker?.id === 1) {
      ctx.out.result(
        {
          url: running.url,
          model: name,
          version: champion.version,
          challenger: running.router.challenger?.version ?? null,
          logging: served.logging ?? null,
          workers,
        },
        () =>
          [
            `Serving ${name} version ${champion.version} (${champion.predictor.platform}) on ${running.url}${workers > 1 ? ` with ${workers} workers` : ''}`,
            ...(running.router.challenger === undefined
              ? []
              : [
                  `  challenger    version ${running.router.challenger.version} (${canary !== undefined ? `${canary}% canary` : 'shadow'})`,
                ]),
            `  predict       curl -s ${running.url}/predict -d '${JSON.stringify(example)}'`,
            `  MLflow        POST ${running.url}/invocations   {"dataframe_records": [...]}`,
            `  V2            POST ${running.url}/v2/models/${name}/infer`,
            `  metrics       ${running.url}/metrics`,
            `  inference log ${served.logging === undefined ? 'off (set TRESTLE_TRACKING_URI or --control-plane)' : `→ ${served.logging}`}`,
            '',
            'Press Ctrl-C to stop.',
          ].join('\n'),
      );
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    ctx.out.info('Draining in-flight requests…');
    await served.close();
    // A worker's IPC channel to the primary keeps it alive: let go so it exits (the primary waits for that).
    if (cluster.isWorker) process.disconnect();
    ctx.out.info('Stopped.');
  },
};
