import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import { afterAll, expect, it } from 'vitest';
import { DataRepo } from '../data/data-repo.js';
import { buildGraph, loadPipeline, runPipeline } from './index.js';

// The quickstart's register stage (examples/flights/register.ts, run as it is) against a real
// SQLite registry: registering has an effect beyond the stage's output file, so a key seen
// before must not restore it from the run cache.
const FLIGHTS = join(import.meta.dirname, '../../../../examples/flights');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let root = '';
afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

it('a parameter changed and changed back re-runs the register stage (cache: false output), which points @champion back at the existing version', async () => {
  const register = loadPipeline(join(FLIGHTS, 'trestle.yaml')).stages.find((s) => s.name === 'register')!;
  expect(register.uncached).toEqual(['registered.json']);

  root = await mkdtemp(join(tmpdir(), 'trestle-register-'));
  const home = join(root, '.trestle');
  const stores = await openStores(loadConfig({ home }, {}), root);
  // Two tracked runs; the `train.run` parameter picks the one whose model the train stage packages.
  const runA = (await stores.metadata.createRun({ experimentId: '0' })).info.runId;
  const runB = (await stores.metadata.createRun({ experimentId: '0' })).info.runId;
  await stores.metadata.close();
  await writeFile(
    join(root, 'trestle.yaml'),
    `stages:
  train:
    cmd: mkdir -p model && echo '{"run":{"runId":"\${train.run}","artifactPath":"model"}}' > model/trestle-model.json
    params: [train.run]
    outs: [model]
  evaluate:
    cmd: echo '{"passed":true,"checks":[{"check":"auc","passed":true}]}' > gate.json
    deps: [model]
    outs: [gate.json]
  register:
    cmd: TRESTLE_HOME=.trestle node --import ${TSX} ${join(FLIGHTS, 'register.ts')}
    deps: [model, gate.json]
    outs:
      - registered.json:
          cache: false
`,
  );
  const pipeline = async (run: string): Promise<Record<string, string>> => {
    await writeFile(join(root, 'params.yaml'), `train:\n  run: ${run}\n`);
    const repo = new DataRepo({ root, threads: 1 });
    try {
      const summary = await runPipeline({ graph: buildGraph(loadPipeline(join(root, 'trestle.yaml'))), repo });
      expect(summary.ok, JSON.stringify(summary.results)).toBe(true);
      return Object.fromEntries(summary.results.map((r) => [r.stage, r.state]));
    } finally {
      await repo.close();
    }
  };
  const champion = async (): Promise<{ version: number; runId?: string; versions: number }> => {
    const s = await openStores(loadConfig({ home }, {}), root);
    try {
      const v = await s.metadata.registry.getModelVersionByAlias('flights-delay', 'champion');
      const all = await s.metadata.registry.searchModelVersions({ filter: "name = 'flights-delay'" });
      return { version: v.version, ...(v.runId === undefined ? {} : { runId: v.runId }), versions: all.items.length };
    } finally {
      await s.metadata.close();
    }
  };

  expect(await pipeline(runA)).toEqual({ train: 'ran', evaluate: 'ran', register: 'ran' });
  expect(await champion()).toEqual({ version: 1, runId: runA, versions: 1 });
  expect(await pipeline(runB)).toEqual({ train: 'ran', evaluate: 'ran', register: 'ran' });
  expect(await champion()).toEqual({ version: 2, runId: runB, versions: 2 });
  // Back: train and evaluate come from the run cache; register runs, finds version 1 (no copy) and moves @champion to it.
  expect(await pipeline(runA)).toEqual({ train: 'restored', evaluate: 'restored', register: 'ran' });
  expect(await champion()).toEqual({ version: 1, runId: runA, versions: 2 });
  expect(JSON.parse(await readFile(join(root, 'registered.json'), 'utf8'))).toMatchObject({ version: 1 });
  // Unchanged since: nothing runs (the register stage is skipped as any other).
  expect(await pipeline(runA)).toEqual({ train: 'unchanged', evaluate: 'unchanged', register: 'unchanged' });
}, 90_000);
