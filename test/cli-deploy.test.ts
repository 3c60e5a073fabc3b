import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trestle } from '../packages/client/src/index.js';
import { loadConfig } from '../packages/core/src/index.js';
import { runCli } from './support/cli.js';

/** `trestle deploy` end to end on an embedded store with one registered model. */
describe('trestle deploy', () => {
  let home: string;
  let work: string;
  const env = (): Record<string, string> => ({ TRESTLE_HOME: home });
  const oneLine = (stderr: string): void => {
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cli-deploy-home-'));
    work = await mkdtemp(join(tmpdir(), 'cli-deploy-'));
    const pkg = join(work, 'pkg');
    await mkdir(pkg);
    await writeFile(join(pkg, 'trestle-model.json'), '{"flavor":"builtin"}');
    await writeFile(join(work, 'garbage'), 'clusters: [unclosed\n  : :');
    const trestle = await Trestle.connect({ config: loadConfig({}, { TRESTLE_HOME: home }) });
    const run = await trestle.startRun({ experiment: 'cli-deploy' });
    await run.logArtifact(pkg, 'model');
    await run.end();
    await trestle.registerModel('flights', `runs:/${run.id}/model`, { runId: run.id, aliases: ['champion'] });
    await writeFile(join(pkg, 'trestle-model.json'), '{"flavor":"builtin","v":2}');
    const run2 = await trestle.startRun({ experiment: 'cli-deploy' });
    await run2.logArtifact(pkg, 'model');
    await run2.end();
    await trestle.registerModel('flights', `runs:/${run2.id}/model`, { runId: run2.id });
    await trestle.close();
  });

  it('k8s writes the manifests and says what it wrote (--json)', async () => {
    const out = join(work, 'k8s');
    const r = await runCli(
      ['deploy', 'k8s', 'models:/flights@champion', '--out', out, '--replicas', '3', '--json'],
      env(),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { model: { version: string; digest: string }; files: string[] };
    expect(result.model.version).toBe('1');
    expect(result.model.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await readdir(out)).sort()).toEqual(result.files.sort());
    expect(await readFile(join(out, 'deployment.yaml'), 'utf8')).toContain('replicas: 3');
  });

  it('sync follows the alias, then reports nothing to do', async () => {
    const out = join(work, 'gitops');
    expect((await runCli(['deploy', 'k8s', 'models:/flights@champion', '--out', out], env())).code).toBe(0);
    const idle = await runCli(['deploy', 'sync', '--out', out], env());
    expect(idle).toMatchObject({ code: 0 });
    expect(idle.stdout).toMatch(/up to date with the registry: nothing changed/);
    const trestle = await Trestle.connect({ config: loadConfig({}, { TRESTLE_HOME: home }) });
    await trestle.setAlias('flights', 'champion', 2);
    await trestle.close();
    const moved = await runCli(['deploy', 'sync', '--out', out], env());
    expect(moved.code).toBe(0);
    expect(moved.stdout).toMatch(/models:\/flights@champion moved: version 1 → 2/);
    expect(moved.stdout).toMatch(/Rewrote .*deployment\.yaml/);
    expect(await readFile(join(out, 'configmap.yaml'), 'utf8')).toContain('models:/flights/2');
  });

  it.each([
    [['deploy', 'k8s', 'models:/flights@champion'], 2, /--out DIR is required/],
    [['deploy', 'k8s', 'models:/flights@champion', '--out', 'x', '--canary-weight', '5'], 2, /needs --canary/],
    [['deploy', 'k8s', 'models:/flights@champion', '--out', 'x', '--replicas', 'two'], 2, /--replicas expects/],
    [['deploy', 'k8s', 'models:/flights@nope', '--out', 'never'], 1, /nope/],
    [['deploy', 'k8s', 'models:/flights/x', '--out', 'never'], 1, /not a number/],
    [['deploy', 'sync', '--out', 'nowhere'], 1, /has no trestle-deploy\.json/],
    [['deploy', 'terraform', '--cloud', 'ibm', '--out', 'never'], 2, /unknown cloud 'ibm': choose aws, gcp, azure/],
    [['deploy', 'terraform', '--out', 'never'], 2, /--cloud aws\|gcp\|azure is required/],
    [
      ['deploy', 'k8s', 'models:/flights@champion', '--out', 'never', '--apply', '--kubeconfig', 'garbage'],
      1,
      /kubeconfig .*garbage does not parse/,
    ],
    [['deploy', 'status', '--out', 'never', '--kubeconfig', 'garbage'], 1, /has no kustomization\.yaml/],
  ])('%j fails with one readable line', async (args, code, message) => {
    const r = await runCli(
      args.map((a) => (a === 'x' || a === 'never' || a === 'nowhere' || a === 'garbage' ? join(work, a) : a)),
      env(),
    );
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    oneLine(r.stderr);
    await expect(readdir(join(work, 'never'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a non-empty --out is refused without --force and left as it was', async () => {
    const out = join(work, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'notes.md'), 'mine');
    const r = await runCli(['deploy', 'k8s', 'models:/flights/1', '--out', out], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exists and is not empty: choose an empty folder or pass --force/);
    oneLine(r.stderr);
    expect(await readdir(out)).toEqual(['notes.md']);
    expect((await runCli(['deploy', 'k8s', 'models:/flights/1', '--out', out, '--force'], env())).code).toBe(0);
  });
});

describe('trestle deploy terraform', () => {
  it('writes the module (--json)', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'cli-tf-')), 'infra');
    const r = await runCli(['deploy', 'terraform', '--cloud', 'azure', '--out', out, '--json'], {
      TRESTLE_HOME: join(out, '..', '.trestle'),
    });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { cloud: string; files: string[] };
    expect(result.cloud).toBe('azure');
    expect((await readdir(out)).sort()).toEqual([...result.files].sort());
  });
});

describe('trestle deploy helm', () => {
  it('writes the chart (--json), refuses a non-empty folder', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'cli-helm-')), 'chart');
    const env = { TRESTLE_HOME: join(out, '..', '.trestle') };
    const r = await runCli(['deploy', 'helm', '--out', out, '--json'], env);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { files: string[] }).files).toContain('Chart.yaml');
    const again = await runCli(['deploy', 'helm', '--out', out], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('trestle init --ci', () => {
  it('writes the workflow, refuses to overwrite it, and names what is wrong in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-init-'));
    const env = { TRESTLE_HOME: join(dir, '.trestle') };
    const r = await runCli(['init', '--ci', 'gitlab', '--dir', dir, '--model', 'flights', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ path: join(dir, '.gitlab-ci.yml'), provider: 'gitlab', model: 'flights' });
    expect(await readFile(join(dir, '.gitlab-ci.yml'), 'utf8')).toContain('MODEL_NAME: flights');
    const again = await runCli(['init', '--ci', 'gitlab', '--dir', dir], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists: pass --force to replace it/);
    expect((await runCli(['init', '--ci', 'gitlab', '--dir', dir, '--force'], env)).code).toBe(0);
    for (const [args, message] of [
      [['init', '--ci', 'jenkins', '--dir', dir], /unknown CI 'jenkins': choose github or gitlab/],
      [['init', '--dir', dir], /--ci github\|gitlab is required/],
      [['init', '--ci', 'github', '--dir', dir, '--gate', 'metrics.auc >>> 1'], /./],
    ] as const) {
      const bad = await runCli([...args], env);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
