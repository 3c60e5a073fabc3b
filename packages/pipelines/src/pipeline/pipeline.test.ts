import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DataRepo } from '../data/data-repo.js';
import {
  assertQueueReachable,
  buildGraph,
  kubernetesManifests,
  loadPipeline,
  manifestsYaml,
  readLockFile,
  runPipeline,
  selectStages,
  type RunSummary,
} from './index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function workspace(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'trestle-pipeline-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function refusal(root: string, file = 'trestle.yaml'): string {
  try {
    buildGraph(loadPipeline(join(root, file)));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the pipeline was accepted');
}

async function run(
  root: string,
  options: { targets?: string[]; jobs?: number; force?: boolean; dryRun?: boolean } = {},
): Promise<RunSummary> {
  const repo = new DataRepo({ root, threads: 1 });
  try {
    return await runPipeline({ graph: buildGraph(loadPipeline(join(root, 'trestle.yaml'))), repo, ...options });
  } finally {
    await repo.close();
  }
}

const states = (s: RunSummary): Record<string, string> => Object.fromEntries(s.results.map((r) => [r.stage, r.state]));

const PIPELINE = `
stages:
  prepare:
    cmd: mkdir -p out && awk '{ print $1 * \${prepare.factor} }' data/raw.txt > out/prepared.txt
    deps: [data/raw.txt]
    params: [prepare.factor]
    outs: [out/prepared.txt]
  train:
    foreach: [a, b]
    do:
      cmd: echo "\${item} $(wc -l < out/prepared.txt)" > out/model-\${item}.txt
      deps: [out/prepared.txt]
      outs:
        - out/model-\${item}.txt
  evaluate:
    cmd: echo '{"auc":0.61,"n":{"rows":3}}' > out/metrics.json && cat out/model-a.txt out/model-b.txt > out/report.txt
    deps: [out/model-a.txt, out/model-b.txt]
    outs: [out/report.txt]
    metrics: [out/metrics.json]
`;

describe('pipeline definitions', () => {
  it('parses stages with params templating and foreach/matrix expansion, named as DVC names them', async () => {
    const root = await workspace({
      'trestle.yaml': `${PIPELINE}  sweep:\n    matrix:\n      model: [gbdt, linear]\n      lr: [0.1, 1]\n    cmd: echo \${item.model} \${item.lr}\n`,
      'params.yaml': 'prepare:\n  factor: 2\n',
      'data/raw.txt': '1\n2\n',
    });
    const p = loadPipeline(join(root, 'trestle.yaml'));
    expect(p.stages.map((s) => s.name)).toEqual([
      'prepare',
      'train@a',
      'train@b',
      'evaluate',
      'sweep@gbdt-0.1',
      'sweep@gbdt-1',
      'sweep@linear-0.1',
      'sweep@linear-1',
    ]);
    expect(p.stages[0]!.cmd).toContain('$1 * 2');
    expect(p.stages[1]!.outs).toEqual(['out/model-a.txt']);
    expect(p.stages[3]!.outs).toEqual(['out/report.txt', 'out/metrics.json']);
    expect(p.stages[5]!.cmd).toBe('echo gbdt 1');
    const graph = buildGraph(p);
    expect([...graph.upstream.get('evaluate')!].sort()).toEqual(['train@a', 'train@b']);
    expect(graph.params.get('prepare')).toEqual({ 'params.yaml': { 'prepare.factor': 2 } });
    expect(selectStages(graph, ['train']).map((s) => s.name)).toEqual(['prepare', 'train@a', 'train@b']);
  });

  it('refuses invalid pipelines before anything runs, one clear message each', async () => {
    const cycle = await workspace({
      'trestle.yaml':
        'stages:\n  a:\n    cmd: cp y x\n    deps: [y]\n    outs: [x]\n  b:\n    cmd: cp x y\n    deps: [x]\n    outs: [y]\n',
    });
    expect(refusal(cycle)).toMatch(/cycle: (a → b → a|b → a → b)/);
    const twoWriters = await workspace({
      'trestle.yaml':
        'stages:\n  a:\n    cmd: touch out/x\n    outs: [out]\n  b:\n    cmd: touch out/x\n    outs: [out/x]\n',
    });
    expect(refusal(twoWriters)).toMatch(/stages 'a' and 'b' both write 'out' \/ 'out\/x'/);
    const orphan = await workspace({
      'trestle.yaml': 'stages:\n  a:\n    cmd: cat nowhere.csv\n    deps: [nowhere.csv]\n',
    });
    expect(refusal(orphan)).toMatch(
      /stage 'a' depends on 'nowhere.csv', which no stage produces and which does not exist/,
    );
    const noParam = await workspace({
      'trestle.yaml': 'stages:\n  a:\n    cmd: echo\n    params: [train.lr]\n',
      'params.yaml': 'train:\n  epochs: 3\n',
    });
    expect(refusal(noParam)).toMatch(/stage 'a' needs parameter 'train.lr', which params.yaml does not define/);
    const malformed = await workspace({ 'trestle.yaml': 'stages:\n  a:\n    cmd: [echo\n  b: 1\n' });
    expect(refusal(malformed)).toMatch(/trestle\.yaml:4:\d+: Flow sequence/);
    const noCmd = await workspace({ 'trestle.yaml': 'stages:\n  a:\n    cmd: echo\n  b:\n    deps: []\n' });
    expect(refusal(noCmd)).toMatch(/trestle\.yaml:4: stage 'b': 'cmd' is required/);
    const unknown = await workspace({ 'trestle.yaml': 'stages:\n  a:\n    cmd: echo ${nope}\n' });
    expect(refusal(unknown)).toMatch(/'\$\{nope\}' is not defined/);
  });
});

describe('running a pipeline', () => {
  it('runs in order, skips unchanged stages, restores a key seen before from the cache without running', async () => {
    const root = await workspace({
      'trestle.yaml': PIPELINE,
      'params.yaml': 'prepare:\n  factor: 2\n',
      'data/raw.txt': '1\n2\n3\n',
    });
    const first = await run(root);
    expect(first.ok).toBe(true);
    expect(states(first)).toEqual({ prepare: 'ran', 'train@a': 'ran', 'train@b': 'ran', evaluate: 'ran' });
    expect(readFileSync(join(root, 'out/prepared.txt'), 'utf8')).toBe('2\n4\n6\n');
    expect(first.results.find((r) => r.stage === 'evaluate')!.metrics).toEqual({ auc: 0.61, 'n.rows': 3 });
    const lock = await readLockFile(join(root, 'trestle.lock'));
    expect(lock.stages['prepare']!.params).toEqual({ 'params.yaml': { 'prepare.factor': 2 } });
    expect(lock.stages['evaluate']!.outs.map((o) => o.path)).toEqual(['out/report.txt', 'out/metrics.json']);

    expect(states(await run(root))).toEqual({
      prepare: 'unchanged',
      'train@a': 'unchanged',
      'train@b': 'unchanged',
      evaluate: 'unchanged',
    });

    writeFileSync(join(root, 'params.yaml'), 'prepare:\n  factor: 3\n');
    expect(states(await run(root, { dryRun: true }))).toEqual({
      prepare: 'would-run',
      'train@a': 'would-run',
      'train@b': 'would-run',
      evaluate: 'would-run',
    });
    const changed = await run(root);
    // The prepared file changes, the line counts do not: train's outputs are identical, so evaluate is skipped.
    expect(states(changed)).toEqual({ prepare: 'ran', 'train@a': 'ran', 'train@b': 'ran', evaluate: 'unchanged' });
    expect(readFileSync(join(root, 'out/prepared.txt'), 'utf8')).toBe('3\n6\n9\n');

    writeFileSync(join(root, 'params.yaml'), 'prepare:\n  factor: 2\n');
    const back = await run(root);
    expect(states(back)).toEqual({
      prepare: 'restored',
      'train@a': 'restored',
      'train@b': 'restored',
      evaluate: 'unchanged',
    });
    expect(readFileSync(join(root, 'out/prepared.txt'), 'utf8')).toBe('2\n4\n6\n');

    await rm(join(root, 'out/report.txt'));
    expect(states(await run(root, { targets: ['evaluate'] }))['evaluate']).toBe('restored');
    expect(readFileSync(join(root, 'out/report.txt'), 'utf8')).toBe('a 3\nb 3\n');
    expect(states(await run(root, { targets: ['prepare'], force: true }))).toEqual({ prepare: 'ran' });
  });

  it('always_changed runs a stage every time; a cache: false output stays out of the object cache', async () => {
    const root = await workspace({
      'trestle.yaml': `stages:
  stamp:
    cmd: echo x >> calls.txt && cp calls.txt stamp.txt
    always_changed: true
    outs: [stamp.txt]
  note:
    cmd: echo note > note.txt
    outs:
      - note.txt:
          cache: false
`,
    });
    expect(states(await run(root))).toEqual({ stamp: 'ran', note: 'ran' });
    expect(states(await run(root))).toEqual({ stamp: 'ran', note: 'unchanged' });
    expect(readFileSync(join(root, 'calls.txt'), 'utf8')).toBe('x\nx\n');
    const lock = await readLockFile(join(root, 'trestle.lock'));
    const repo = new DataRepo({ root });
    expect(repo.cache.has(lock.stages['note']!.outs[0]!.sha256)).toBe(false);
    expect(repo.cache.has(lock.stages['stamp']!.outs[0]!.sha256)).toBe(true);

    // A key seen before restores a cached stage, but runs one with a `cache: false` output
    // (under `outs` or `metrics`) again, even when the object cache holds the same content
    // (here from the cached stage's output).
    writeFileSync(
      join(root, 'trestle.yaml'),
      `stages:
  copy:
    cmd: cp in.txt copy.txt
    deps: [in.txt]
    outs: [copy.txt]
  note:
    cmd: cat in.txt >> calls.txt && cp in.txt note.json
    deps: [in.txt]
    metrics:
      - note.json:
          cache: false
`,
    );
    expect(loadPipeline(join(root, 'trestle.yaml')).stages.find((s) => s.name === 'note')?.uncached).toEqual([
      'note.json',
    ]);
    writeFileSync(join(root, 'calls.txt'), '');
    for (const text of ['{"n":1}\n', '{"n":2}\n']) {
      writeFileSync(join(root, 'in.txt'), text);
      expect(states(await run(root))).toEqual({ copy: 'ran', note: 'ran' });
    }
    writeFileSync(join(root, 'in.txt'), '{"n":1}\n');
    expect(states(await run(root))).toEqual({ copy: 'restored', note: 'ran' });
    expect(readFileSync(join(root, 'calls.txt'), 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":1}\n');

    writeFileSync(join(root, 'trestle.yaml'), 'stages:\n  s:\n    cmd: echo\n    always_changed: yes please\n');
    expect(refusal(root)).toContain("stage 's': 'always_changed' must be true or false");
  });

  it('runs independent stages in parallel, --jobs at a time', async () => {
    const stages = Array.from(
      { length: 4 },
      (_, i) => `  s${i}:\n    cmd: sleep 0.4 && echo ${i} > o${i}.txt\n    outs: [o${i}.txt]\n`,
    ).join('');
    const root = await workspace({ 'trestle.yaml': `stages:\n${stages}` });
    const t0 = Date.now();
    await run(root, { jobs: 4 });
    const parallel = Date.now() - t0;
    const root2 = await workspace({ 'trestle.yaml': `stages:\n${stages}` });
    const t1 = Date.now();
    await run(root2, { jobs: 1 });
    const serial = Date.now() - t1;
    expect(serial).toBeGreaterThan(1500);
    expect(parallel).toBeLessThan(serial * 0.6);
  });

  it('stages finishing together all reach the lock file, which stays valid YAML', async () => {
    const stages = Array.from(
      { length: 24 },
      (_, i) => `  s${i}:\n    cmd: echo ${i} > o${i}.txt\n    outs: [o${i}.txt]\n`,
    );
    const root = await workspace({ 'trestle.yaml': `stages:\n${stages.join('')}` });
    expect((await run(root, { jobs: 8 })).ok).toBe(true);
    const expected = Array.from({ length: 24 }, (_, i) => `s${i}`).sort();
    // As written (parsed here without the remembered form) and as the next run reads it.
    const text = readFileSync(join(root, 'trestle.lock'), 'utf8');
    expect(Object.keys((parse(text) as { stages: object }).stages).sort()).toEqual(expected);
    expect(Object.keys((await readLockFile(join(root, 'trestle.lock'))).stages).sort()).toEqual(expected);
    expect(states(await run(root, { jobs: 8 }))).toEqual(Object.fromEntries(expected.map((s) => [s, 'unchanged'])));
  });

  it('a failing stage stops its dependents, keeps completed outputs, and the next run resumes from it', async () => {
    const root = await workspace({
      'trestle.yaml': `stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  other:
    cmd: echo other > other.txt
    outs: [other.txt]
  b:
    cmd: test -f ok && cp a.txt b.txt || (echo "b needs ok" >&2; exit 3)
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cp b.txt c.txt
    deps: [b.txt]
    outs: [c.txt]
`,
    });
    const failed = await run(root, { jobs: 1 });
    expect(failed.ok).toBe(false);
    expect(states(failed)).toEqual({ a: 'ran', other: 'ran', b: 'failed', c: 'blocked' });
    const b = failed.results.find((r) => r.stage === 'b')!;
    expect(b.reason).toMatch(/exited with code 3/);
    expect(b.tail).toEqual(['b needs ok']);
    expect(existsSync(join(root, 'a.txt'))).toBe(true);
    expect(Object.keys((await readLockFile(join(root, 'trestle.lock'))).stages).sort()).toEqual(['a', 'other']);
    writeFileSync(join(root, 'ok'), '');
    const resumed = await run(root);
    expect(states(resumed)).toEqual({ a: 'unchanged', other: 'unchanged', b: 'ran', c: 'ran' });
  });

  it('a stage that does not write its declared output fails, naming it', async () => {
    const root = await workspace({ 'trestle.yaml': 'stages:\n  a:\n    cmd: "true"\n    outs: [model.bin]\n' });
    const s = await run(root);
    expect(s.results[0]!.reason).toMatch(/did not write its output 'model.bin'/);
  });

  it('two trestle run processes in one workspace never corrupt the lock file or the cache', async () => {
    const stages = Array.from(
      { length: 6 },
      (_, i) => `  s${i}:\n    cmd: sleep 0.1 && echo ${i} > o${i}.txt\n    outs: [o${i}.txt]\n`,
    ).join('');
    const root = await workspace({ 'trestle.yaml': `stages:\n${stages}` });
    const script = join(root, 'run.mts');
    writeFileSync(
      script,
      `import { DataRepo } from ${JSON.stringify(join(import.meta.dirname, '../data/data-repo.ts'))};
import { buildGraph, loadPipeline, runPipeline } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
const repo = new DataRepo({ root: ${JSON.stringify(root)}, threads: 1 });
const s = await runPipeline({ graph: buildGraph(loadPipeline(${JSON.stringify(join(root, 'trestle.yaml'))})), repo, jobs: 2 });
await repo.close();
console.log(JSON.stringify(s.results.map((r) => r.state)));
`,
    );
    const exec = promisify(execFile);
    const both = await Promise.all(
      [0, 1].map(() =>
        exec(process.execPath, ['--import', 'tsx', script], { cwd: join(import.meta.dirname, '../../../..') }),
      ),
    );
    const outcomes = both.map((r) => JSON.parse(r.stdout) as string[]);
    // One ran everything; the other waited for the lock, then found everything unchanged.
    expect(outcomes.map((o) => o.every((s) => s === 'ran') || o.every((s) => s === 'unchanged'))).toEqual([true, true]);
    expect(outcomes.flat().filter((s) => s === 'ran')).toHaveLength(6);
    const lock = await readLockFile(join(root, 'trestle.lock'));
    expect(Object.keys(lock.stages)).toHaveLength(6);
    expect(existsSync(join(root, '.trestle/pipeline.lock'))).toBe(false);
  });
});

describe('queue executor, bad input', () => {
  it('a stopped or mistyped queue is one clear error, not endless retries', async () => {
    await expect(assertQueueReachable('redis://127.0.0.1:1')).rejects.toThrow(
      /cannot reach the queue at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); start Redis there/,
    );
    await expect(assertQueueReachable('http://127.0.0.1:6379')).rejects.toThrow(
      /TRESTLE_QUEUE must be a redis:\/\/host:port URL/,
    );
  });
});

describe('Kubernetes export', () => {
  it('writes one Job per stage that waits for its upstream Jobs, valid against the Kubernetes schemas', async () => {
    const root = await workspace({
      'trestle.yaml': PIPELINE,
      'params.yaml': 'prepare:\n  factor: 2\n',
      'data/raw.txt': '1\n',
    });
    const graph = buildGraph(loadPipeline(join(root, 'trestle.yaml')));
    const manifests = kubernetesManifests(graph, {
      image: 'registry.example/flights:1',
      trackingUri: 'http://trestle:5000',
    });
    const { Job } = await import('kubernetes-models/batch/v1');
    const { ServiceAccount } = await import('kubernetes-models/v1');
    const { Role, RoleBinding } = await import('kubernetes-models/rbac.authorization.k8s.io/v1');
    const models = { Job, ServiceAccount, Role, RoleBinding } as Record<
      string,
      new (o: unknown) => { validate(): void }
    >;
    for (const m of manifests) new models[m['kind'] as string]!(m).validate();
    const jobs = manifests.filter((m) => m['kind'] === 'Job') as {
      metadata: { name: string };
      spec: { template: { spec: { initContainers?: { command: string[] }[]; containers: { command: string[] }[] } } };
    }[];
    expect(jobs.map((j) => j.metadata.name)).toEqual([
      'trestle-pipeline-prepare',
      'trestle-pipeline-train-a',
      'trestle-pipeline-train-b',
      'trestle-pipeline-evaluate',
    ]);
    const evaluate = jobs[3]!.spec.template.spec;
    expect(evaluate.initContainers![0]!.command.slice(-2)).toEqual([
      'job/trestle-pipeline-train-a',
      'job/trestle-pipeline-train-b',
    ]);
    expect(evaluate.containers[0]!.command).toEqual(['trestle', 'run', 'evaluate', '--no-deps']);
    expect(jobs[0]!.spec.template.spec.initContainers).toBeUndefined();
    // A broken object is caught by the same validation.
    const broken = structuredClone(jobs[0]!) as unknown as { spec: { template: { spec: { restartPolicy: unknown } } } };
    broken.spec.template.spec.restartPolicy = 42;
    expect(() => new models['Job']!(broken).validate()).toThrow();
    const text = manifestsYaml(manifests);
    expect(text.split('---\n')).toHaveLength(manifests.length);
  });

  it('--no-deps runs only the named stage', async () => {
    const root = await workspace({
      'trestle.yaml': PIPELINE,
      'params.yaml': 'prepare:\n  factor: 2\n',
      'data/raw.txt': '1\n',
    });
    await run(root);
    const repo = new DataRepo({ root, threads: 1 });
    try {
      const s = await runPipeline({
        graph: buildGraph(loadPipeline(join(root, 'trestle.yaml'))),
        repo,
        targets: ['evaluate'],
        noDeps: true,
        force: true,
      });
      expect(states(s)).toEqual({ evaluate: 'ran' });
    } finally {
      await repo.close();
    }
  });
});
