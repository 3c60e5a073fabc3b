import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelPackageDigest } from '../packages/deploy/src/k8s/resolve-model.js';
import { writeTestPackage } from '../packages/deploy/src/testing/model-package.js';
import { runCli } from './support/cli.js';

let home: string;
let work: string;
let pkg: string;
let runId: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'cli-build-home-'));
  work = await mkdtemp(join(tmpdir(), 'cli-build-'));
  pkg = await writeTestPackage('flights-delay');
  // Log the package to a run of the embedded store and register it as flights-delay@champion.
  const { Trestle } = await import('@trestle/client');
  const trestle = await Trestle.connect({ config: loadConfig({}, { TRESTLE_HOME: home }) });
  const run = await trestle.startRun({ experiment: 'build' });
  await run.logArtifact(pkg, 'model');
  await run.end();
  runId = run.id;
  await trestle.registerModel('flights-delay', `runs:/${run.id}/model`, { runId: run.id, aliases: ['champion'] });
  await trestle.close();
}, 120_000);

describe('trestle build', () => {
  it('resolves models:/NAME@ALIAS through the registry and reports the context size as JSON', async () => {
    const out = join(work, 'by-alias');
    const r = await runCli(['build', 'models:/flights-delay@champion', '--out', out, '--json'], { TRESTLE_HOME: home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      out: string;
      size: { bytes: number; files: number };
      info: { model: { name: string; version: string; digest: string; baked: boolean } };
    };
    expect(report.out).toBe(out);
    expect(report.info.model).toMatchObject({ name: 'flights-delay', version: '1', baked: true });
    expect(report.info.model.digest).toBe(await modelPackageDigest(pkg));
    const files = (await readdir(out, { withFileTypes: true, recursive: true })).filter((e) => e.isFile());
    expect(report.size.files).toBe(files.length);
    expect((await readdir(join(out, 'model'))).sort()).toEqual((await readdir(pkg)).sort());
    const dockerfile = await readFile(join(out, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('dev.trestle.model.version=1');
    expect(dockerfile).toContain('dev.trestle.model.uri=models:/flights-delay@champion');
  });

  it('says the size in its human output; runs:/ and --pull-at-start work too', async () => {
    const out = join(work, 'by-run');
    const r = await runCli(['build', `runs:/${runId}/model`, '--out', out, '--pull-at-start'], { TRESTLE_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Wrote the build context of model version \S+ \(builtin flavor\) to /);
    expect(r.stdout).toMatch(/size +[\d.]+ KB in 6 files \(serve.mjs [\d.]+ KB\)/);
    expect(r.stdout).toContain(`fetched at start from TRESTLE_TRACKING_URI as runs:/${runId}/model`);
    expect(await readdir(out)).not.toContain('model');
  });

  it('bad input: one line each, a non-zero exit code, nothing written', async () => {
    const env = { TRESTLE_HOME: home };
    const noOut = await runCli(['build', pkg], env);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toBe("trestle build: --out DIR is required. See 'trestle build --help'.\n");

    const unknown = await runCli(['build', 'models:/no-such-model@champion', '--out', join(work, 'x')], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^trestle build: error: .*no-such-model/);

    const malformed = await runCli(['build', 'models:/flights-delay', '--out', join(work, 'x')], env);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^trestle build: error: model URI 'models:\/flights-delay' names no version/);

    const full = join(work, 'full');
    await mkdir(full);
    await writeFile(join(full, 'notes.txt'), 'keep');
    const refused = await runCli(['build', pkg, '--out', full], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `trestle build: error: ${full} exists and is not empty: choose an empty folder or pass --force to replace it\n`,
    );
    expect(await readdir(full)).toEqual(['notes.txt']);
    expect((await readdir(work)).filter((f) => f.includes('.tmp-') || f === 'x')).toEqual([]);
  });

  it('--worker writes the worker context; the kinds exclude each other with exit 2', async () => {
    const out = join(work, 'worker');
    const r = await runCli(['build', '--worker', '--out', out, '--json'], { TRESTLE_HOME: home });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { kind: string; installs: string[]; size: { files: number } };
    expect(report).toMatchObject({ kind: 'worker', installs: [], size: { files: 5 } });
    expect(await readdir(out)).toContain('worker.mjs');
    const both = await runCli(['build', '--server', '--worker', '--out', join(work, 'y')], {});
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/choose one of MODEL_URI, --server or --worker/);
    const composeAlone = await runCli(['build', '--compose', '--out', join(work, 'y')], {});
    expect(composeAlone.code).toBe(2);
    expect(composeAlone.stderr).toMatch(/--compose needs the MODEL_URI its serving service serves/);
    const uriToo = await runCli(['build', pkg, '--server', '--out', join(work, 'y')], {});
    expect(uriToo.code).toBe(2);
    expect(uriToo.stderr).toMatch(/--server takes no MODEL_URI/);
  });

  it('has --help', async () => {
    const r = await runCli(['build', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--pull-at-start');
  });
});
