import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMetadataStore } from '../packages/store/src/index.js';
import { MonitorService } from '../packages/server/src/index.js';
import { buildReferenceProfile, normals, rng, WindowAccumulator } from '../packages/monitoring/src/index.js';
import { runCli } from './support/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const HOUR = 3_600_000;

/**
 * `trestle monitor run|status|report` on the embedded store: three hourly windows of traffic
 * that drifts more and more, late labels, then the HTML report rendered in a real Chromium.
 */
describe('trestle monitor', () => {
  let home: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);
  const t0 = Date.UTC(2026, 1, 1);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-monitor-cli-'));
    env = { TRESTLE_HOME: home };
    const store = await openMetadataStore(join(home, 'trestle.db'), { artifactRoot: join(home, 'artifacts') });
    const random = rng(5);
    const n = 4000;
    const distance = normals(random, n, 800, 300);
    const carrier = Array.from({ length: n }, () => (random() < 0.6 ? 'AA' : random() < 0.5 ? 'UA' : 'DL'));
    const probability = distance.map((d) => Math.min(1, Math.max(0, d / 1600)));
    const profile = buildReferenceProfile(
      { distance, carrier },
      { prediction: { task: 'binary-classification', outputs: { probability } } },
    );
    const service = new MonitorService({ store: store.monitoring });
    await service.setReference('flights', '1', profile);
    const model = { name: 'flights', version: '1', alias: 'champion' };
    for (let w = 0; w < 3; w++) {
      const acc = new WindowAccumulator(profile);
      const d = normals(random, 1500, 800 + w * 250, 300);
      const records = [];
      for (let i = 0; i < d.length; i++) {
        const p = Math.min(1, Math.max(0, d[i]! / 1600));
        const inputs = { distance: d[i]!, carrier: random() < 0.6 - w * 0.15 ? 'AA' : random() < 0.5 ? 'UA' : 'DL' };
        acc.add(inputs, { probability: p });
        if (i < 300)
          records.push({
            requestId: `w${w}-${i}`,
            time: t0 + w * HOUR + i,
            inputs,
            outputs: { probability: p, label: p >= 0.5 ? '1' : '0' },
          });
      }
      await store.monitoring.recordWindow(model, t0 + w * HOUR, t0 + (w + 1) * HOUR, JSON.stringify(acc.snapshot()));
      await store.monitoring.logInferences(model, records);
      // Labels agree with the prediction less and less.
      await service.feedback({
        records: records.map((r, i) => ({
          requestId: r.requestId,
          label: i % 10 < 9 - 3 * w ? r.outputs.label : r.outputs.label === '1' ? '0' : '1',
        })),
      });
    }
    await store.close();
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('run computes the closed windows once; status shows the latest by alias', async () => {
    const r = await cli('monitor', 'run', 'flights', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      computed: number;
      items: { start: number; datasetDrift: boolean; labelled: number }[];
    };
    expect(out.computed).toBe(3);
    expect(out.items.map((i) => i.labelled)).toEqual([300, 300, 300]);
    expect(out.items.at(-1)!.datasetDrift).toBe(true);
    expect(JSON.parse((await cli('monitor', 'run', 'flights', '--json')).stdout)).toMatchObject({ computed: 0 });

    const s = await cli('monitor', 'status', 'flights@champion');
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/flights@champion: version 1 \(@champion\)/);
    expect(s.stdout).toMatch(/DATASET DRIFT/);
    expect(s.stdout).toMatch(/! distance\s+wasserstein/);
    const sj = JSON.parse((await cli('monitor', 'status', 'flights', '--json')).stdout) as {
      start: number;
      performance: { accuracy: { value: number } };
    };
    expect(sj.start).toBe(t0 + 2 * HOUR);
    expect(sj.performance.accuracy.value).toBeCloseTo(0.3, 10);

    const none = await cli('monitor', 'status', 'flights@challenger');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no monitoring results for flights@challenger yet/);
    expect((await cli('monitor', 'report', 'flights')).code).toBe(2);
  });

  it('report writes one self-contained HTML file that Chromium renders without console errors', async () => {
    const file = join(home, 'report.html');
    const r = await cli('monitor', 'report', 'flights@champion', '--html', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ path: file, windows: 3 });
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/|<link /);
    expect(html).toContain('Drift over time');
    expect(html).toContain('distance — wasserstein');

    if (!existsSync(CHROMIUM)) {
      if (process.env['CI'] === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing`);
      console.warn(`skipping the report screenshot: ${CHROMIUM} is not installed`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (q) => problems.push(`request failed: ${q.url()}`));
      await page.goto(`file://${file}`);
      expect(await page.title()).toBe('Monitoring report: flights@champion');
      // Two time series, and one histogram per feature and output (distance, carrier, probability).
      expect(await page.locator('svg').count()).toBe(5);
      expect(await page.locator('svg .dot.drift').count()).toBe(3);
      expect(await page.locator('svg .dot.perf').count()).toBe(3);
      const box = await page.locator('.features svg').first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      const shot = process.env['TRESTLE_REPORT_SHOT'] ?? join(home, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
