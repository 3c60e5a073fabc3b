import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@trestle/core';
import { Trestle } from '@trestle/client';
import { startServer, type RunningServer } from '@trestle/server';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciWorkflow, writeCiWorkflow } from './workflows.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '../../../..');

interface GithubStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
}
interface GithubWorkflow {
  on: Record<string, unknown>;
  env: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; needs?: string[]; if?: string; steps: GithubStep[] }>;
}
type GitlabJob = { stage: string; script: string[]; needs?: string[]; rules?: { if: string }[] };

const allRuns = (jobs: Record<string, { steps: GithubStep[] }>): string =>
  Object.values(jobs)
    .flatMap((j) => j.steps.map((s) => s.run ?? ''))
    .join('\n');

describe('trestle init --ci', () => {
  it('GitHub: a workflow with the required structure, every stage of the path, deploy on main only', () => {
    const file = ciWorkflow({ provider: 'github', model: 'flights-delay', gate: 'metrics.auc >= 0.7' });
    expect(file.path).toBe('.github/workflows/trestle.yml');
    const wf = parse(file.content) as GithubWorkflow;
    expect(Object.keys(wf.on)).toContain('push');
    expect(Object.keys(wf.jobs).length).toBeGreaterThan(0);
    for (const [id, job] of Object.entries(wf.jobs)) {
      expect(typeof job['runs-on'], id).toBe('string');
      expect(job.steps.length, id).toBeGreaterThan(0);
      for (const s of job.steps)
        expect(typeof s.uses === 'string' || typeof s.run === 'string', `${id}: ${JSON.stringify(s)}`).toBe(true);
      for (const n of job.needs ?? []) expect(Object.keys(wf.jobs), `${id} needs ${n}`).toContain(n);
    }
    const runs = allRuns(wf.jobs);
    expect(runs).toMatch(/^npm ci$/m);
    expect(runs).toMatch(/^npm test$/m);
    expect(runs).toMatch(/npx trestle run$/m);
    expect(runs).toMatch(/trestle runs search --filter "\$TRESTLE_GATE/);
    expect(wf.env['TRESTLE_GATE']).toBe('metrics.auc >= 0.7');
    expect(runs).toMatch(/registered-models\/\$MODEL_NAME\/versions/);
    expect(wf.jobs['image']!.steps.some((s) => s.uses?.startsWith('docker/build-push-action'))).toBe(true);
    expect(runs).toMatch(/npx trestle build "models:\/\$MODEL_NAME\/\$MODEL_VERSION"/);
    expect(wf.jobs['deploy']!.if).toBe("github.ref == 'refs/heads/main'");
    expect(runs).toMatch(/npx trestle deploy k8s "models:\/\$MODEL_NAME@champion"/);
    expect(runs).toMatch(/kubectl apply -k deploy\/k8s/);
    // Order: test → train → image → deploy.
    expect(wf.jobs['train']!.needs).toEqual(['test']);
    expect(wf.jobs['deploy']!.needs).toEqual(expect.arrayContaining(['train', 'image']));
  });

  it('GitLab: every job has a stage from stages and a script; deploy jobs run on the default branch only', () => {
    const file = ciWorkflow({ provider: 'gitlab', model: 'flights-delay' });
    expect(file.path).toBe('.gitlab-ci.yml');
    const doc = parse(file.content) as Record<string, unknown> & { stages: string[] };
    const reserved = new Set(['stages', 'variables', 'default', 'include', 'workflow']);
    const jobs = Object.entries(doc).filter(([k]) => !reserved.has(k)) as [string, GitlabJob][];
    expect(jobs.length).toBeGreaterThanOrEqual(4);
    for (const [id, job] of jobs) {
      expect(doc.stages, id).toContain(job.stage);
      expect(Array.isArray(job.script) && job.script.length > 0, id).toBe(true);
      for (const n of job.needs ?? []) expect(Object.keys(doc), `${id} needs ${n}`).toContain(n);
      // A job never needs one of a later stage.
      for (const n of job.needs ?? []) {
        expect(doc.stages.indexOf((doc[n] as GitlabJob).stage)).toBeLessThanOrEqual(doc.stages.indexOf(job.stage));
      }
    }
    const scripts = jobs.flatMap(([, j]) => j.script).join('\n');
    for (const needed of [
      'npm test',
      'npx trestle run',
      'trestle runs search',
      '/kaniko/executor',
      'kubectl apply -k',
    ]) {
      expect(scripts).toContain(needed);
    }
    for (const id of ['manifests', 'apply']) {
      expect((doc[id] as GitlabJob).rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    }
  });

  it('refuses a gate that is not a run filter and a model name that is not one', () => {
    expect(() => ciWorkflow({ provider: 'github', model: 'm', gate: 'metrics.auc >>> 3' })).toThrow();
    expect(() => ciWorkflow({ provider: 'github', model: 'a b' })).toThrow(/model name 'a b'/);
  });

  it('writes the file, and refuses to overwrite it without force', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ci-write-'));
    const first = await writeCiWorkflow({ provider: 'github', model: 'm', dir });
    expect(await readFile(join(dir, '.github/workflows/trestle.yml'), 'utf8')).toBe(first.content);
    await writeFile(first.path, 'mine');
    await expect(writeCiWorkflow({ provider: 'github', model: 'm', dir })).rejects.toThrow(/exists: pass --force/);
    expect(await readFile(first.path, 'utf8')).toBe('mine');
    await writeCiWorkflow({ provider: 'github', model: 'm', dir, force: true });
    expect(await readFile(first.path, 'utf8')).toBe(first.content);
  });
});

/** The gate-and-register step, run by bash with the real CLI against a real tracking server. */
describe('the gate-and-register step, run for real', () => {
  let server: RunningServer;
  let work: string;
  let env: Record<string, string>;
  const passing: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ci-gate-'));
    server = await startServer({
      config: loadConfig({ home: join(work, 'server') }, {}),
      port: 0,
      logger: false,
      handleSignals: false,
    });
    // `npx trestle …` in the step runs this repository's CLI.
    const bin = join(work, 'bin');
    await run('mkdir', ['-p', bin]);
    await writeFile(
      join(bin, 'npx'),
      `#!/usr/bin/env bash\n[ "$1" = trestle ] || exit 99\nshift\nexec node ${join(repoRoot, 'packages/cli/bin/trestle.js')} "$@"\n`,
    );
    await chmod(join(bin, 'npx'), 0o755);
    env = {
      PATH: `${bin}:${process.env['PATH'] ?? ''}`,
      HOME: work,
      TRESTLE_HOME: join(work, 'client'),
      TRESTLE_TRACKING_URI: server.url,
      TRESTLE_TRACKING_TOKEN: '',
      MODEL_NAME: 'flights-delay',
      TRESTLE_GATE: 'metrics.test_auc > 0.6',
      GITHUB_OUTPUT: join(work, 'github-output'),
      STARTED_MS: String(Date.now() - 1),
    };
    const trestle = await Trestle.connect({ config: loadConfig({}, env) });
    for (const auc of [0.7, 0.5]) {
      const r = await trestle.startRun({ experiment: 'ci' });
      await r.logMetrics({ test_auc: auc }, 0);
      await r.logText('model/trestle-model.json', '{}');
      await r.end();
      if (auc > 0.6) passing.push(r.id);
    }
    await trestle.close();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const step = (): string => {
    const wf = parse(ciWorkflow({ provider: 'github', model: 'flights-delay' }).content) as GithubWorkflow;
    return wf.jobs['train']!.steps.find((s) => s.id === 'register')!.run!;
  };

  it('registers the run that passes the gate and hands its version to the next jobs', async () => {
    await writeFile(env['GITHUB_OUTPUT']!, '');
    const { stderr } = await run('bash', ['-c', step()], { env, cwd: work });
    expect(stderr).toBe('');
    expect(await readFile(env['GITHUB_OUTPUT']!, 'utf8')).toBe('version=1\n');
    const trestle = await Trestle.connect({ config: loadConfig({}, env) });
    const v = await trestle.getModelVersionByAlias('flights-delay', 'candidate');
    await trestle.close();
    expect(v).toMatchObject({ version: 1, source: `runs:/${passing[0]}/model`, runId: passing[0] });
  });

  it('stops the pipeline, registering nothing, when no run passes', async () => {
    await expect(
      run('bash', ['-c', step()], { env: { ...env, TRESTLE_GATE: 'metrics.test_auc > 0.9' }, cwd: work }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/No run of this pipeline passes the gate/) });
    const trestle = await Trestle.connect({ config: loadConfig({}, env) });
    expect((await trestle.getRegisteredModel('flights-delay')).latestVersion).toBe(1);
    await trestle.close();
  });
});
