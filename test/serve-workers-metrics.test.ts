import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsAvailable, writeTestPackage } from '../packages/serving/src/testing/model-package.js';
import { spawnServe, type ServeProcess } from './support/serve-process.js';

const available = await modelsAvailable();
if (!available)
  console.warn('skipping trestle serve --workers: @trestle/models (the model loader) is not in this tree');

/** One request on a fresh connection (no keep-alive), so the cluster spreads them over the workers. */
function send(url: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
};

describe.skipIf(!available)('trestle serve --workers 2', () => {
  let home: string;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-serve-workers-'));
  });
  afterAll(async () => {
    await serve?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('/metrics adds up every worker, whichever worker answers the scrape', async () => {
    const dir = await writeTestPackage();
    serve = await spawnServe([dir, '--workers', '2', '--no-logging'], { TRESTLE_HOME: home });
    const url = serve.info.url;
    // Worker 1 printed the URL; wait until worker 2 serves too (its figures join the scrape).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const m = await send(url, 'GET', '/metrics');
      if (value(m.text, 'trestle_serving_processes') === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await send(url, 'POST', '/predict', JSON.stringify({ distance: 900 + i, hour: 12, origin: 'ORD' }));
      expect(r.status).toBe(200);
    }
    const scrapes = await Promise.all(Array.from({ length: 6 }, () => send(url, 'GET', '/metrics')));
    for (const s of scrapes) {
      expect(s.status).toBe(200);
      expect(value(s.text, 'trestle_serving_processes')).toBe(2);
      expect(value(s.text, 'trestle_serving_requests_total{route="predict",status="200"}')).toBe(n);
      expect(value(s.text, 'trestle_serving_request_duration_seconds_count{route="predict"}')).toBe(n);
      // Loaded in both workers: still 1, not 2.
      expect(s.text).toMatch(/trestle_serving_model_info\{model="flights-model",version="[^"]+",role="champion"\} 1\n/);
    }

    const promtool = '/usr/bin/promtool';
    if (!existsSync(promtool)) {
      if (process.env['CI'] === 'true')
        throw new Error('promtool is missing; .ci/run installs the Debian prometheus package');
      console.warn('skipping the promtool check of the aggregated metrics: /usr/bin/promtool is missing');
    } else {
      const file = join(home, 'metrics.txt');
      await writeFile(file, scrapes[0]!.text);
      const check = await promisify(execFile)('sh', ['-c', `${promtool} check metrics < ${file}`]).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
      expect(check.out).toBe('');
      expect(check.code).toBe(0);
    }
    expect(await serve.stop()).toBe(0);
    serve = undefined;
  }, 120_000);
});
