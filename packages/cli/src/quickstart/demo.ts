/**
 * The serving part of `trestle quickstart`: starts `trestle server` (on the quickstart's store)
 * and `trestle serve models:/flights-delay@champion` as child processes of the CLI itself,
 * replays later flights (the prepare stage's `data/traffic.csv`: February to June, after the
 * January the model learned, in time order) as traffic, and keeps both running until Ctrl-C, or
 * stops them at once (`--exit`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrestleError, type TrestleConfig } from '@trestle/core';
import { monitorDemo, monitoringReport, writeMonitorReport, type DemoMonitoring } from './demo-monitoring.js';

/** `packages/cli/bin/trestle.js`: the CLI as users run it (tsx's loader, then src/main.ts). */
const CLI_BIN = resolve(fileURLToPath(import.meta.url), '../../../bin/trestle.js');

/** Length of serve's feature-summary windows in the demo: short, so they close while it waits. */
const WINDOW_SECONDS = 3;

/** The model the quickstart serves. */
const DEMO_MODEL = 'flights-delay';

/** One flight of the traffic, its prediction and what really happened. */
export interface DemoPrediction {
  requestId: string;
  /** The day of the flight (YYYY-MM-DD); not sent to the model. */
  date: string;
  /** The features sent to `/predict`. */
  flight: Record<string, string | number>;
  predicted: string;
  probability: number | undefined;
  actual: string;
}

/** What the demo did: where things run, the traffic it sent and a few predictions. */
export interface DemoResult {
  server: { url: string; pid: number; started: boolean };
  serve: { url: string; pid: number; model: string; version: string; logging: string | null };
  requests: number;
  failed: number;
  agree: number;
  requestIds: string[];
  predictions: DemoPrediction[];
  logs: string;
  monitoring: DemoMonitoring;
}

/** A child process of the CLI whose first JSON object on stdout says where it listens. */
interface Child {
  proc: ChildProcess;
  info: Record<string, unknown>;
  stop(): Promise<void>;
}

function spawnCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  log: string,
  timeoutMs: number,
): Promise<Child> {
  const proc = spawn(process.execPath, [CLI_BIN, ...args, '--json'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches only the quickstart, which stops the
    // children in order (serve first, so its last inference logs reach the server).
    detached: true,
  });
  const out = createWriteStream(log, { flags: 'a' });
  proc.stderr.pipe(out, { end: false });
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    out.end();
  };
  return new Promise((done, fail) => {
    let text = '';
    const timer = setTimeout(() => {
      void stop().then(() =>
        fail(new TrestleError('UNAVAILABLE', `'trestle ${args[0]}' did not start in time; see ${log}`)),
      );
    }, timeoutMs);
    const onData = (b: Buffer): void => {
      text += b.toString('utf8');
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) {
        try {
          const info = JSON.parse(text.slice(0, at)) as Record<string, unknown>;
          clearTimeout(timer);
          proc.stdout.off('data', onData);
          out.write(text);
          // Keep draining (request logs), or a full pipe would stall the child.
          proc.stdout.pipe(out, { end: false });
          done({ proc, info, stop });
          return;
        } catch {
          // not a whole JSON value yet
        }
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(
        new TrestleError(
          'UNAVAILABLE',
          `'trestle ${args[0]}' exited (code ${code ?? 'none'}) before it listened; see ${log}`,
        ),
      );
    });
  });
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/v2/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new TrestleError('UNAVAILABLE', `${url}/v2/health/ready did not answer in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * At most `limit` rows of one of the prepare stage's tables as records (numbers where the
 * column is numeric), evenly spaced, in the table's order.
 */
function readFlights(path: string, limit: number): Record<string, string | number>[] {
  const [head, ...lines] = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const names = head!.split(',');
  const step = Math.max(1, lines.length / limit);
  const rows: Record<string, string | number>[] = [];
  for (let i = 0; i < lines.length && rows.length < limit; i += step) {
    const cells = lines[Math.floor(i)]!.split(',');
    rows.push(
      Object.fromEntries(names.map((n, j) => [n, /^-?\d+(\.\d+)?$/.test(cells[j]!) ? Number(cells[j]) : cells[j]!])),
    );
  }
  return rows;
}

/** The label and the probability of "late" out of one `/predict` answer, whatever its shape. */
function readPrediction(p: unknown): { label: string; probability: number | undefined } {
  if (p === null || typeof p !== 'object') return { label: String(p), probability: undefined };
  const o = p as Record<string, unknown>;
  const label = o['label'] ?? o['prediction'] ?? o['class'];
  const probs = o['probabilities'] ?? o['probability'];
  let probability: number | undefined;
  if (typeof probs === 'number') probability = probs;
  else if (Array.isArray(probs) && typeof probs.at(-1) === 'number') probability = probs.at(-1) as number;
  else if (probs !== null && typeof probs === 'object') {
    const v = (probs as Record<string, unknown>)['1'];
    if (typeof v === 'number') probability = v;
  }
  return { label: String(label), probability };
}

export interface DemoOptions {
  config: TrestleConfig;
  work: string;
  /** Flights of data/traffic.csv to send, one request each. */
  requests: number;
  /** Progress lines for people. */
  info(line: string): void;
}

/** A started demo: what it did, and `stop()` (serve first, then the server; idempotent). */
export interface RunningDemo {
  result: DemoResult;
  stop(): Promise<void>;
}

/**
 * Starts the server (unless the quickstart already logs to one), serves the champion, waits for
 * it to be ready and sends the later flights as traffic. On failure it stops what it started.
 */
export async function startDemo(o: DemoOptions): Promise<RunningDemo> {
  const logs = join(o.work, '.trestle', 'logs');
  mkdirSync(logs, { recursive: true });
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TRESTLE_')) base[k] = v;
  const storeEnv: Record<string, string> = {
    ...base,
    TRESTLE_HOME: o.config.home,
    TRESTLE_DB: o.config.db,
    TRESTLE_ARTIFACTS: o.config.artifacts,
    ...(o.config.s3Endpoint === undefined ? {} : { TRESTLE_S3_ENDPOINT: o.config.s3Endpoint }),
    ...(o.config.trackingToken === undefined ? {} : { TRESTLE_TRACKING_TOKEN: o.config.trackingToken }),
  };
  const children: Child[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // Serve first: draining ships its last inference logs and window to the server.
      for (const c of [...children].reverse()) await c.stop();
    })());
  try {
    let serverUrl = o.config.trackingUri;
    let serverPid = 0;
    if (serverUrl === undefined) {
      o.info('Starting trestle server on the quickstart store…');
      const server = await spawnCli(
        ['server', '--port', '0', '--log-format', 'json'],
        storeEnv,
        o.work,
        join(logs, 'server.log'),
        120_000,
      );
      children.push(server);
      serverUrl = String(server.info['url']);
      serverPid = server.proc.pid!;
    }
    o.info(`Starting trestle serve models:/${DEMO_MODEL}@champion (inference logs → ${serverUrl})…`);
    const served = await spawnCli(
      ['serve', `models:/${DEMO_MODEL}@champion`, '--port', '0', '--window', String(WINDOW_SECONDS)],
      { ...storeEnv, TRESTLE_TRACKING_URI: serverUrl },
      o.work,
      join(logs, 'serve.log'),
      120_000,
    );
    children.push(served);
    const serveUrl = String(served.info['url']);
    await waitReady(serveUrl, 60_000);

    const flights = readFlights(join(o.work, 'data', 'traffic.csv'), o.requests);
    o.info(
      `Sending ${flights.length} later flights (data/traffic.csv, ${trafficSpan(flights.map((f) => String(f['date'])))}) to ${serveUrl}/predict, in time order…`,
    );
    const predictions: DemoPrediction[] = [];
    const requestIds: string[] = [];
    let failed = 0;
    const since = Date.now();
    const stamp = since.toString(36);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < flights.length) {
        const i = next++;
        const { late, date, ...flight } = flights[i]!;
        const requestId = `quickstart-${stamp}-${i}`;
        const res = await fetch(`${serveUrl}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify(flight),
        });
        if (!res.ok) {
          failed++;
          await res.body?.cancel();
          continue;
        }
        const body = (await res.json()) as { predictions: unknown[] };
        const { label, probability } = readPrediction(body.predictions[0]);
        requestIds.push(requestId);
        predictions[i] = { requestId, date: String(date), flight, predicted: label, probability, actual: String(late) };
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const answered = predictions.filter((p) => p !== undefined);
    o.info(`Sending the ${answered.length} real outcomes back as late labels and computing the monitoring windows…`);
    const monitoring = await monitorDemo({
      serverUrl,
      token: o.config.trackingToken,
      model: DEMO_MODEL,
      since,
      predictions: answered,
      timeoutMs: 60_000,
      writeReport: () =>
        writeMonitorReport(
          serverUrl,
          o.config.home,
          DEMO_MODEL,
          join(o.work, 'monitoring-report.html'),
          o.config.trackingToken,
        ),
    });
    return {
      result: {
        server: { url: serverUrl, pid: serverPid, started: serverPid !== 0 },
        serve: {
          url: serveUrl,
          pid: served.proc.pid!,
          model: String(served.info['model']),
          version: String(served.info['version']),
          logging: typeof served.info['logging'] === 'string' ? served.info['logging'] : null,
        },
        requests: answered.length,
        failed,
        agree: answered.filter((p) => p.predicted === p.actual).length,
        requestIds,
        predictions: answered,
        logs,
        monitoring,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const pad = (s: string, n: number): string => s.padEnd(n);

/** "1 Feb – 30 Jun 2001" for the days of the traffic (YYYY-MM-DD, in order). */
function trafficSpan(dates: readonly string[]): string {
  const day = (d: string | undefined): Date => new Date(`${d ?? ''}T00:00:00Z`);
  const first = day(dates[0]);
  const last = day(dates.at(-1));
  if (Number.isNaN(first.getTime()) || Number.isNaN(last.getTime())) return 'no dates';
  const fmt = (d: Date, year: boolean): string =>
    d.toLocaleDateString('en-GB', {
      day: 'numeric',
      month: 'short',
      timeZone: 'UTC',
      ...(year ? { year: 'numeric' } : {}),
    });
  return `${fmt(first, first.getUTCFullYear() !== last.getUTCFullYear())} – ${fmt(last, true)}`;
}

/** The demo's closing text: a few predictions beside the outcome, and the URLs to try. */
export function demoReport(d: DemoResult, shown = 6): string {
  const lines = [
    '',
    `Serving ${DEMO_MODEL} version ${d.serve.version} on ${d.serve.url}; sent ${d.requests} later flights from data/traffic.csv (${trafficSpan(d.predictions.map((p) => p.date))}, in time order)${d.failed > 0 ? ` (${d.failed} failed)` : ''}: the model agreed with what happened on ${d.agree} (${((100 * d.agree) / Math.max(1, d.requests)).toFixed(1)}%).`,
    '  day     flight                                  predicted       actual',
  ];
  // Some flights that were late and some that were not, spread over the traffic, in the order they were sent.
  const spread = <T>(xs: readonly T[], k: number): T[] =>
    xs.length <= k ? [...xs] : Array.from({ length: k }, (_, i) => xs[Math.floor((i * xs.length) / k)]!);
  const late = spread(
    d.predictions.filter((p) => p.actual === '1'),
    Math.floor(shown / 2),
  );
  const picked = [
    ...late,
    ...spread(
      d.predictions.filter((p) => p.actual !== '1'),
      shown - late.length,
    ),
  ];
  const order = new Map(d.predictions.map((p, i) => [p, i]));
  picked.sort((a, b) => order.get(a)! - order.get(b)!);
  for (const p of picked) {
    const f = p.flight;
    const what = `${String(f['origin'])} → ${String(f['destination'])}, ${String(f['distance'])} mi, ${String(f['hour'])}h, weekday ${String(f['weekday'])}`;
    const word = (l: string): string => (l === '1' ? 'late' : l === '0' ? 'on time' : l);
    const prob = p.probability === undefined ? '' : ` (${(100 * p.probability).toFixed(0)}%)`;
    const day = new Date(`${p.date}T00:00:00Z`).toLocaleDateString('en-GB', {
      day: 'numeric',
      month: 'short',
      timeZone: 'UTC',
    });
    lines.push(`  ${pad(day, 8)}${pad(what, 40)}${pad(word(p.predicted) + prob, 16)}${word(p.actual)}`);
  }
  lines.push(monitoringReport(d.monitoring));
  const example = d.predictions[0]?.flight ?? {};
  lines.push(
    '',
    'Try it:',
    `  web UI        ${d.server.url}/`,
    `  server        ${d.server.url}   (export TRESTLE_TRACKING_URI=${d.server.url})`,
    `  predict       curl -s ${d.serve.url}/predict -d '${JSON.stringify(example)}'`,
    `  V2            POST ${d.serve.url}/v2/models/${d.serve.model}/infer`,
    `  MLflow        POST ${d.serve.url}/invocations   {"dataframe_records": [...]}`,
    `  metrics       ${d.serve.url}/metrics`,
    `  logs          ${d.logs}`,
  );
  return lines.join('\n');
}
