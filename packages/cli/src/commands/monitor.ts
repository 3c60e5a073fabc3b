/**
 * `trestle monitor run|status|report`: monitoring results of served models. Against the
 * configured server (TRESTLE_TRACKING_URI) over REST, else straight on the metadata store
 * (computing windows in this process, as the server's job would).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TrestleError, type AlertState, type MonitorResult, type TrestleConfig } from '@trestle/core';
import type { AlertConfig, AlertEvent, AlertStateStore } from '@trestle/server';
import type { DatasetDrift, Performance, ReferenceProfile, WindowQuality, WindowSummary } from '@trestle/monitoring';
import { UsageError, type Command, type CommandContext, type CommandGroup } from '../framework/command.js';
import { formatTime, table } from '../framework/output.js';

interface Target {
  name: string;
  alias?: string;
  version?: string;
}

/** `MODEL`, `MODEL@ALIAS` or `MODEL/VERSION`. */
export function parseTarget(value: string | undefined): Target {
  if (value === undefined || value.trim() === '')
    throw new UsageError('give a model: MODEL, MODEL@ALIAS or MODEL/VERSION');
  const at = value.lastIndexOf('@');
  if (at > 0) return { name: value.slice(0, at), alias: value.slice(at + 1) };
  const slash = value.lastIndexOf('/');
  if (slash > 0) return { name: value.slice(0, slash), version: value.slice(slash + 1) };
  return { name: value };
}

interface Backend {
  run(t: Target): Promise<MonitorResult[]>;
  /** Where alert state is kept: the store (embedded), else a file in the Trestle home. */
  alertState(): AlertStateStore;
  results(t: Target, limit: number): Promise<MonitorResult[]>;
  profile(name: string, version: string): Promise<ReferenceProfile | undefined>;
  summaries(name: string, version: string, start: number, end: number): Promise<WindowSummary[]>;
}

async function remote(config: TrestleConfig, fn: (b: Backend) => Promise<void>): Promise<void> {
  const base = `${config.trackingUri!.replace(/\/+$/, '')}/api/v1`;
  const call = async <T>(method: string, path: string): Promise<T> => {
    const headers: Record<string, string> = {};
    if (config.trackingToken !== undefined) headers['authorization'] = `Bearer ${config.trackingToken}`;
    const res = await fetch(`${base}${path}`, { method, headers });
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok) {
      const code = body.error?.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'INVALID_ARGUMENT';
      throw new TrestleError(code, body.error?.message ?? `server answered ${res.status}`);
    }
    return body as T;
  };
  const q = (t: Target, extra: Record<string, string> = {}): string => {
    const p = new URLSearchParams(extra);
    if (t.version !== undefined) p.set('version', t.version);
    if (t.alias !== undefined) p.set('alias', t.alias);
    const s = p.toString();
    return s === '' ? '' : `?${s}`;
  };
  const m = (name: string): string => `/monitoring/models/${encodeURIComponent(name)}`;
  await fn({
    alertState: () => new FileAlertState(join(config.home, 'monitor-alert-state.json')),
    run: async (t) =>
      (
        await call<{ items: MonitorResult[] }>(
          'POST',
          `${m(t.name)}/run${t.version === undefined ? '' : `?version=${encodeURIComponent(t.version)}`}`,
        )
      ).items,
    results: async (t, limit) =>
      (await call<{ items: MonitorResult[] }>('GET', `${m(t.name)}/results${q(t, { limit: String(limit) })}`)).items,
    profile: async (name, version) => {
      try {
        return (
          await call<{ profile: ReferenceProfile }>(
            'GET',
            `/monitoring/references/${encodeURIComponent(name)}/${encodeURIComponent(version)}`,
          )
        ).profile;
      } catch (err) {
        if (err instanceof TrestleError && err.code === 'NOT_FOUND') return undefined;
        throw err;
      }
    },
    summaries: async (name, version, start, end) =>
      (
        await call<{ summaries: WindowSummary[] }>(
          'GET',
          `${m(name)}/versions/${encodeURIComponent(version)}/summary?start=${start}&end=${end}`,
        )
      ).summaries,
  });
}

async function embedded(config: TrestleConfig, fn: (b: Backend) => Promise<void>): Promise<void> {
  const { openMetadataStore } = await import('@trestle/store');
  const { MonitorService } = await import('@trestle/server');
  const { parseWindowSummary } = await import('@trestle/monitoring');
  const store = await openMetadataStore(config.db, { artifactRoot: config.artifacts });
  try {
    const service = new MonitorService({ store: store.monitoring });
    await fn({
      alertState: () => store.monitoring,
      run: (t) =>
        service.computePending(Date.now(), {
          name: t.name,
          ...(t.version === undefined ? {} : { version: t.version }),
        }),
      results: (t, limit) =>
        store.monitoring.listResults({
          name: t.name,
          ...(t.version === undefined ? {} : { version: t.version }),
          ...(t.alias === undefined ? {} : { alias: t.alias }),
          limit,
        }),
      profile: (name, version) => service.profile(name, version),
      summaries: async (name, version, start, end) =>
        (await store.monitoring.windowSummaries({ name, version, start, end })).map((s) =>
          parseWindowSummary(JSON.parse(s)),
        ),
    });
  } finally {
    await store.close();
  }
}

const withBackend = (ctx: CommandContext, fn: (b: Backend) => Promise<void>): Promise<void> =>
  ctx.config.trackingUri === undefined ? embedded(ctx.config, fn) : remote(ctx.config, fn);

function targetName(t: Target): string {
  return t.alias !== undefined ? `${t.name}@${t.alias}` : t.version !== undefined ? `${t.name}/${t.version}` : t.name;
}

function mainMetric(p: unknown): string {
  const perf = p as Performance | null;
  if (perf === null) return '-';
  if (perf.task === 'regression') return `rmse ${perf.rmse.value?.toFixed(3) ?? '-'}`;
  const auc = perf.task === 'binary-classification' ? perf.auc : undefined;
  return auc?.value != null ? `auc ${auc.value.toFixed(3)}` : `acc ${perf.accuracy.value?.toFixed(3) ?? '-'}`;
}

function driftedNames(r: MonitorResult): string {
  const d = r.drift as DatasetDrift | null;
  if (d === null) return r.error ?? '-';
  const names = d.features.filter((f) => f.drifted).map((f) => f.name);
  return names.length === 0 ? 'none' : names.join(', ');
}

function resultsTable(items: MonitorResult[]): string {
  return table(
    ['window start', 'version', 'alias', 'rows', 'drift share', 'drifted', 'labelled', 'performance'],
    items.map((r) => [
      formatTime(r.start),
      r.version,
      r.alias,
      r.rows,
      r.driftShare === null ? '-' : r.driftShare.toFixed(2),
      driftedNames(r),
      r.labelled,
      mainMetric(r.performance),
    ]),
  );
}

const JSON_OPT = { json: { type: 'boolean' as const, description: 'print JSON' } };

/**
 * Alert state of `monitor run` against a server (whose REST API does not expose the state):
 * a small JSON file, written atomically, so a rule that keeps firing is sent once across runs.
 */
class FileAlertState implements AlertStateStore {
  constructor(private readonly path: string) {}

  private read(): Record<string, AlertState> {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, AlertState>;
    } catch {
      return {};
    }
  }

  getAlertState(key: string): Promise<AlertState | undefined> {
    return Promise.resolve(this.read()[key]);
  }

  setAlertState(state: AlertState): Promise<void> {
    const all = { ...this.read(), [state.key]: state };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all));
    renameSync(tmp, this.path);
    return Promise.resolve();
  }
}

/**
 * The alert configuration of `--alerts FILE` (`monitor run`, `server`), plus sinks from
 * `--webhook` and `--slack` (`monitor run`); a bad file is a usage error naming what to fix.
 */
export async function alertConfig(values: CommandContext['values']): Promise<AlertConfig | undefined> {
  const file = values['alerts'];
  const webhook = values['webhook'];
  const slack = values['slack'];
  const secretFile = values['webhook-secret-file'];
  if (file === undefined) {
    if (webhook !== undefined || slack !== undefined || secretFile !== undefined)
      throw new UsageError('--webhook, --slack and --webhook-secret-file need --alerts FILE (the rules)');
    return undefined;
  }
  if (secretFile !== undefined && webhook === undefined)
    throw new UsageError('--webhook-secret-file needs --webhook URL');
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  let json: unknown;
  try {
    json = JSON.parse(read(String(file), '--alerts'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--alerts ${String(file)} is not JSON: ${(err as Error).message}`);
  }
  const { parseAlertConfig } = await import('@trestle/server');
  const extra: unknown[] = [];
  if (typeof webhook === 'string')
    extra.push({
      kind: 'webhook',
      url: webhook,
      ...(typeof secretFile === 'string' ? { secret: read(secretFile, '--webhook-secret-file').trim() } : {}),
    });
  if (typeof slack === 'string') extra.push({ kind: 'slack', url: slack });
  const withSinks =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? {
          ...json,
          sinks: [
            ...(Array.isArray((json as { sinks?: unknown }).sinks) ? (json as { sinks: unknown[] }).sinks : []),
            ...extra,
          ],
        }
      : json;
  try {
    return parseAlertConfig(withSinks);
  } catch (err) {
    throw new UsageError(`--alerts ${String(file)}: ${(err as Error).message}`);
  }
}

const run: Command = {
  name: 'run',
  summary: 'Compute the closed windows of a model that changed since last computed',
  usage: 'MODEL[/VERSION]',
  description: [
    'What the server does when a window closes, now. Against TRESTLE_TRACKING_URI when set, else the local store.',
    '',
    'With --alerts FILE, the rules in FILE ({"rules":[…],"sinks":[…]}, as the server takes) are checked on the',
    'windows computed, and a rule that starts firing or clears is sent to the sinks once (a webhook signed with',
    'HMAC-SHA256 in x-trestle-signature, a Slack incoming webhook, the log). Example FILE:',
    '  {"rules":[{"id":"drift","kind":"drift_share","above":0.4}],"sinks":[{"kind":"log"}]}',
  ].join('\n'),
  options: {
    alerts: {
      type: 'string',
      valueName: 'FILE',
      description: 'alert rules and sinks (JSON) to check on what is computed',
    },
    webhook: { type: 'string', valueName: 'URL', description: 'also send alerts to this webhook (JSON event)' },
    'webhook-secret-file': {
      type: 'string',
      valueName: 'FILE',
      description: "sign --webhook's bodies with the secret in FILE (HMAC-SHA256)",
    },
    slack: { type: 'string', valueName: 'URL', description: 'also send alerts to this Slack incoming webhook' },
    ...JSON_OPT,
  },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const t = parseTarget(ctx.positionals[0]);
    if (t.alias !== undefined)
      throw new UsageError('monitor run takes MODEL or MODEL/VERSION (windows are computed per version)');
    const alerts = await alertConfig(ctx.values);
    await withBackend(ctx, async (b) => {
      if (!ctx.out.json) process.stderr.write(`computing the closed windows of ${targetName(t)}…\n`);
      const items = await b.run(t);
      const events: AlertEvent[] = [];
      const warnings: string[] = [];
      if (alerts !== undefined) {
        const { AlertEngine } = await import('@trestle/server');
        const log = (obj: object, msg: string): void => {
          const { sink, err, alert } = obj as { sink?: unknown; err?: unknown; alert?: unknown };
          const why = err instanceof Error ? `: ${err.message}` : '';
          const line = `${msg}${why}${typeof sink === 'string' ? ` (${sink})` : ''}`;
          // The log sink's own lines are the events (in the JSON result); delivery problems are warnings.
          if (alert === undefined) warnings.push(line);
          ctx.out.info(`monitor: ${line}`);
        };
        const engine = new AlertEngine({ config: alerts, store: b.alertState(), log: { info: log, warn: log } });
        for (const r of items) events.push(...(await engine.evaluate(r)));
      }
      ctx.out.result(
        { computed: items.length, items, ...(alerts === undefined ? {} : { alerts: events, alertWarnings: warnings }) },
        () =>
          [
            items.length === 0
              ? `no window of ${targetName(t)} needed computing`
              : `${items.length} window(s) computed\n${resultsTable(items)}`,
            ...(alerts === undefined
              ? []
              : events.length === 0
                ? ['no alert changed state']
                : events.map((e) => `alert ${e.message}`)),
          ].join('\n'),
      );
    });
  },
};

const status: Command = {
  name: 'status',
  summary: 'The latest monitoring result: drifted features, quality, performance',
  usage: 'MODEL[@ALIAS|/VERSION]',
  options: { ...JSON_OPT },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const t = parseTarget(ctx.positionals[0]);
    await withBackend(ctx, async (b) => {
      const [latest] = await b.results(t, 1);
      if (latest === undefined) {
        throw new TrestleError(
          'NOT_FOUND',
          `no monitoring results for ${targetName(t)} yet; windows are computed when they close (or run 'trestle monitor run ${t.name}')`,
        );
      }
      const d = latest.drift as DatasetDrift | null;
      const q = latest.quality as WindowQuality | null;
      ctx.out.result(latest, () =>
        [
          `${targetName(t)}: version ${latest.version}${latest.alias === null ? '' : ` (@${latest.alias})`}, window ${formatTime(latest.start)} – ${formatTime(latest.end)}, ${latest.rows} predictions`,
          latest.error === undefined ? '' : `  note: ${latest.error}`,
          d === null
            ? '  drift: not computed'
            : `  drift: ${d.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'} (${d.drifted} of ${d.tested} features, share ${d.share.toFixed(2)} vs ${d.driftShare})`,
          ...(d === null
            ? []
            : [...d.features, ...d.prediction].map(
                (f) =>
                  `    ${f.drifted ? '!' : ' '} ${f.name.padEnd(20)} ${f.method.padEnd(14)} ${f.score === null ? (f.skipped ?? '-') : f.score.toPrecision(4)}`,
              )),
          q === null
            ? ''
            : `  quality: ${
                q.passed
                  ? 'passed'
                  : `failed (${q.checks
                      .filter((c) => !c.passed)
                      .map((c) => `${c.name}: ${c.features.join(', ')}`)
                      .join('; ')})`
              }`,
          `  performance: ${latest.labelled} labelled, ${mainMetric(latest.performance)}`,
        ]
          .filter((l) => l !== '')
          .join('\n'),
      );
    });
  },
};

const report: Command = {
  name: 'report',
  summary: 'Write a self-contained HTML report (plots of drift, performance, histograms)',
  usage: 'MODEL[@ALIAS|/VERSION] --html FILE',
  options: {
    html: { type: 'string', valueName: 'FILE', description: 'where to write the report' },
    limit: { type: 'string', valueName: 'N', description: 'windows to include, newest (default 200)' },
    ...JSON_OPT,
  },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const t = parseTarget(ctx.positionals[0]);
    const file = ctx.values['html'];
    if (typeof file !== 'string' || file === '')
      throw new UsageError('--html FILE is required (where to write the report)');
    const limitText = ctx.values['limit'];
    const limit = limitText === undefined ? 200 : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new UsageError(`--limit expects a positive integer, got '${String(limitText)}'`);
    const { renderHtmlReport, mergeWindows } = await import('@trestle/monitoring');
    await withBackend(ctx, async (b) => {
      const windows = await b.results(t, limit);
      const last = windows.at(-1);
      let profile: ReferenceProfile | undefined;
      let latest: WindowSummary | undefined;
      if (last !== undefined) {
        profile = await b.profile(last.name, last.version);
        const parts = await b.summaries(last.name, last.version, last.start, last.end);
        latest = parts.reduce<WindowSummary | undefined>(
          (acc, p) => (acc === undefined ? p : acc.binsDigest === p.binsDigest ? mergeWindows(acc, p) : acc),
          undefined,
        );
      }
      const html = renderHtmlReport({
        model: t.name,
        target: targetName(t),
        windows,
        ...(profile === undefined ? {} : { profile }),
        ...(latest === undefined ? {} : { latest }),
        generated: new Date(),
      });
      const path = resolve(file);
      writeFileSync(path, html);
      ctx.out.result(
        { path, windows: windows.length, bytes: Buffer.byteLength(html) },
        () => `report of ${targetName(t)} (${windows.length} windows) written to ${path}`,
      );
    });
  },
};

export const monitor: CommandGroup = {
  name: 'monitor',
  summary: 'Drift, data quality and performance of served models (run, status, report)',
  commands: [run, status, report],
};
