import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Trestle } from './trestle.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function embedded(warnings: string[]): Promise<Trestle> {
  const home = await mkdtemp(join(tmpdir(), 'trestle-run-'));
  dirs.push(home);
  return Trestle.connect({
    config: loadConfig({ home }, {}),
    buffer: { batchSize: 100, flushIntervalMs: 60_000, warn: (m) => warnings.push(m) },
  });
}

describe('ActiveRun metric logging on the embedded store', () => {
  it('refuses a bad point at the call that logs it, and the stream goes on', async () => {
    const trestle = await embedded([]);
    const run = await trestle.startRun({ experiment: 'refusals' });
    void run.logMetric('loss', 1, 0);
    expect(() => run.logMetric('k'.repeat(300), 1, 1)).toThrow(/300 characters long; the limit is 250/);
    expect(() => run.logMetric('loss', 1, 1.5)).toThrow(/step of metric 'loss' must be an integer/);
    void run.logMetric('loss', 0.5, 1);
    await run.end();
    const history = await trestle.backend.getMetricHistory(run.id, 'loss');
    expect(history.items.map((m) => m.value)).toEqual([1, 0.5]);
    await trestle.close();
  });

  it('drops what the store refuses (a run deleted while logging), says so once, and counts it', async () => {
    const warnings: string[] = [];
    const trestle = await embedded(warnings);
    const run = await trestle.startRun({ experiment: 'refusals' });
    for (let step = 0; step < 150; step++) await run.logMetric('loss', 1 / (step + 1), step);
    await trestle.backend.deleteRun(run.id);
    for (let step = 150; step < 450; step++) await run.logMetric('loss', 1 / (step + 1), step);
    await run.flush();
    expect(run.droppedMetrics.points).toBe(350);
    expect(run.droppedMetrics.byCode).toEqual({ FAILED_PRECONDITION: 350 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^trestle: run ${run.id}: dropped metric 100 points that the store refused: .*deleted`),
    );
    await trestle.backend.restoreRun(run.id);
    expect((await trestle.backend.getMetricHistory(run.id, 'loss')).items).toHaveLength(100);
    await trestle.close();
  });
});
