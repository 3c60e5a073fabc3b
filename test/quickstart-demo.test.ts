import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { startServer, type RunningServer } from '../packages/server/src/index.js';
import { demoReport, type DemoResult } from '../packages/cli/src/quickstart/demo.js';
import { runCli } from './support/cli.js';
import { QUICKSTART_SLICE } from './support/quickstart.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm start -- --exit` after the pipeline: `trestle server` and `trestle serve
 * models:/flights-delay@champion` as real child processes, 300 later flights (February to June,
 * in time order) as traffic, the predictions back beside the real outcome, monitoring of that
 * traffic against the January reference, both children gone when it ends.
 */
describe('npm start: serving the champion with real later flights', () => {
  let home: string;
  let demo: DemoResult;
  let workdir: string;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-qs-demo-'));
    const r = await runCli(['quickstart', '--exit', '--json', ...QUICKSTART_SLICE], { TRESTLE_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { demo: DemoResult; workdir: string };
    demo = out.demo;
    workdir = out.workdir;
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('sends flights of data/traffic.csv and gets a prediction for each, beside the real outcome', () => {
    expect(demo.server.started).toBe(true);
    expect(demo.serve.logging).toBe(demo.server.url);
    expect(demo).toMatchObject({ requests: 300, failed: 0 });
    expect(demo.predictions).toHaveLength(300);
    const table = readFileSync(join(workdir, 'data', 'traffic.csv'), 'utf8')
      .trim()
      .split('\n');
    const header = table[0]!.split(',');
    const rows = new Set(table.slice(1));
    for (const p of demo.predictions) {
      expect(['0', '1']).toContain(p.predicted);
      expect(p.probability).toBeGreaterThan(0);
      expect(p.probability).toBeLessThan(1);
      expect(p.predicted).toBe(p.probability! >= 0.5 ? '1' : '0');
      // Each flight and its outcome is a row of the prepare stage's test table.
      const row = header.map((h) => (h === 'late' ? p.actual : h === 'date' ? p.date : String(p.flight[h]))).join(',');
      expect(Object.keys(p.flight).sort()).toEqual(['destination', 'distance', 'hour', 'origin', 'weekday']);
      expect(rows.has(row), row).toBe(true);
    }
    expect(demo.agree).toBe(demo.predictions.filter((p) => p.predicted === p.actual).length);
    // The traffic is later than the January the model learned: February to June, sent in time order.
    const dates = demo.predictions.map((p) => p.date);
    expect(dates).toEqual([...dates].sort());
    expect(dates[0]! >= '2001-02-01').toBe(true);
    expect(dates.at(-1)! < '2001-07-01').toBe(true);
    const months = new Set(dates.map((d) => d.slice(0, 7)));
    expect([...months].sort()).toEqual(['2001-02', '2001-03', '2001-04', '2001-05', '2001-06']);
    // The evaluation keeps its holdout: data/test.csv is still 1–7 February.
    const summary = JSON.parse(readFileSync(join(workdir, 'data', 'summary.json'), 'utf8')) as Record<
      string,
      { from: string; to: string }
    >;
    expect(summary['test']).toMatchObject({ from: '2001-02-01', to: '2001-02-07' });
    expect(summary['traffic']).toMatchObject({ from: '2001-02-01', to: '2001-06-30' });
    // Not every prediction alike: the model ranks flights.
    expect(new Set(demo.predictions.map((p) => p.probability!.toFixed(3))).size).toBeGreaterThan(10);
  });

  it('prints the predictions and the URLs, with a curl line for one of those flights', () => {
    const text = demoReport(demo);
    expect(text).toContain(`Serving flights-delay version ${demo.serve.version} on ${demo.serve.url}`);
    expect(text).toMatch(/sent 300 later flights from data\/traffic\.csv \(1 Feb – 30 Jun 2001, in time order\)/);
    const shown = [
      ...text.matchAll(
        /^ {2}(\d+ \w{3}) +\w{3} → \w{3}, \d+ mi, \d+h, weekday \w+\s+(on time|late) \(\d+%\)\s+(on time|late)$/gm,
      ),
    ];
    expect(shown.length).toBe(6);
    // The rows shown spread over the traffic, not only its first days.
    expect(new Set(shown.map((m) => m[1]!.split(' ')[1])).size).toBeGreaterThan(2);
    const curl = new RegExp(`curl -s ${demo.serve.url}/predict -d '(\\{.*\\})'`).exec(text);
    expect(JSON.parse(curl![1]!)).toEqual(demo.predictions[0]!.flight);
    expect(text).toContain(`web UI        ${demo.server.url}/`);
    expect(text).toContain(`${demo.serve.url}/v2/models/flights-delay/infer`);
    expect(text).toContain(`${demo.serve.url}/metrics`);
  });

  it('stops both children on --exit, after serve shipped every inference log to the server', async () => {
    expect(alive(demo.serve.pid)).toBe(false);
    expect(alive(demo.server.pid)).toBe(false);
    // The server's store is the quickstart's: serve it again and ask it over REST. Labels for
    // the demo's request ids all match a logged prediction; an id never sent does not.
    server = await startServer({ config: loadConfig({ home }, {}), port: 0, logger: false, handleSignals: false });
    const records = demo.predictions.map((p) => ({ requestId: p.requestId, label: p.actual }));
    const res = await fetch(`${server.url}/api/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [...records, { requestId: 'never-sent', label: '1' }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ matched: 300, unknown: 1 });
  }, 60_000);

  it('feeds the real outcomes back as late labels and reports drift, live performance and the HTML report', async () => {
    const m = demo.monitoring;
    // Labels sent before serve shipped the logs are held, then joined when they land.
    expect(m.feedback.matched + m.feedback.pending).toBe(300);
    expect(m).toMatchObject({ rows: 300, labelled: 300 });
    // Live accuracy is the share of predictions that matched the outcome the demo saw.
    expect(m.accuracy).toBeCloseTo(demo.agree / 300, 9);
    expect(m.auc).toBeGreaterThan(0);
    const features = ['hour', 'weekday', 'distance', 'origin', 'destination'];
    for (const w of m.windows) {
      expect(w.error).toBeUndefined();
      expect(w.tested).toBe(features.length);
      for (const f of w.drifted) expect(features).toContain(f);
    }
    expect(m.drifted).toEqual([...new Set(m.windows.flatMap((w) => w.drifted))]);
    // February–June against January: monitoring finds drift, and the report says which features.
    expect(m.drifted.length).toBeGreaterThan(0);
    const html = readFileSync(m.report!, 'utf8');
    expect(m.report).toBe(join(workdir, 'monitoring-report.html'));
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('flights-delay@champion');
    const text = demoReport(demo);
    expect(text).toContain(`HTML report       ${m.report}`);
    expect(text).toContain(`drifted features  ${m.drifted.join(', ')}`);
    expect(text).toMatch(/live performance {2}accuracy \d+\.\d%, AUC 0\.\d{3} on 300 labelled predictions/);
    // The results are stored on the server: read them back over REST.
    const res = await fetch(`${server!.url}/api/v1/monitoring/models/flights-delay/results?alias=champion`);
    const items = ((await res.json()) as { items: { rows: number; labelled: number }[] }).items;
    expect(items.reduce((s, r) => s + r.rows, 0)).toBe(300);
    expect(items.reduce((s, r) => s + r.labelled, 0)).toBe(300);
  });
});
