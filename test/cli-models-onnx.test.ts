import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@trestle/core';
import { Trestle } from '@trestle/client';
import { loadModel } from '@trestle/models';
import { openStores, type Stores } from '@trestle/store';
import { runCli } from './support/cli.js';

/**
 * `trestle models register NAME --onnx FILE --signature SPEC`: an ONNX file Trestle did not
 * make (fixtures/onnx/sklearn-style-linear.onnx, built with the onnx package's helper API by
 * the script beside it: one float input `float_input` [N, 2] and the output `variable` [N, 1]
 * = x · [2, −3] + 0.5, the shape skl2onnx gives a LinearRegression) becomes a package (manifest
 * + MLmodel) that loads as `models:/NAME/1`; a file that is not ONNX, or a signature that does
 * not fit the graph, is one line and exit 1, and nothing is registered.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'onnx', 'sklearn-style-linear.onnx');

describe('trestle models register --onnx', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trestle-onnx-register-'));
    env = { TRESTLE_HOME: dir };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const withStore = async <T>(f: (trestle: Trestle, stores: Stores) => Promise<T>): Promise<T> => {
    const config = loadConfig({ home: dir }, {});
    const stores = await openStores(config);
    try {
      return await f(new Trestle(stores.metadata, stores.artifacts, config), stores);
    } finally {
      await stores.metadata.close();
      await stores.artifacts.close();
    }
  };

  it('registers the file with a name:type signature; models:/NAME/1 predicts what the graph computes', async () => {
    const r = await runCli(
      ['models', 'register', 'converted', '--onnx', FIXTURE, '--signature', 'a:double,b:double', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const { version } = JSON.parse(r.stdout) as { version: { version: number; source: string; runId: string } };
    expect(version.version).toBe(1);
    expect(version.source).toBe(`runs:/${version.runId}/model`);

    await withStore(async (trestle, { metadata }) => {
      expect((await metadata.getRun(version.runId)).info.status).toBe('FINISHED');
      const model = await loadModel('models:/converted/1', { source: trestle });
      try {
        expect(model.flavor).toBe('onnx');
        expect(model.signature.inputs).toEqual([
          { name: 'a', type: 'double' },
          { name: 'b', type: 'double' },
        ]);
        // The package carries an MLmodel (onnx and python_function flavors) beside the file.
        expect(readFileSync(join(model.path, 'MLmodel'), 'utf8')).toContain('loader_module: mlflow.onnx');
        expect(readFileSync(join(model.path, 'model.onnx'))).toEqual(readFileSync(FIXTURE));
        const p = await model.predictRows([
          { a: 1, b: 2 },
          { a: -0.5, b: 0 },
        ]);
        expect(Array.from(p.outputs['variable'] as Float64Array)).toEqual([2 - 6 + 0.5, -1 + 0.5]);
      } finally {
        await model.close();
      }
    });
  });

  it("takes MLflow's signature JSON from a file, as the next version", async () => {
    const spec = join(dir, 'signature.json');
    writeFileSync(
      spec,
      JSON.stringify({
        inputs:
          '[{"type": "double", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}]',
        outputs: '[{"type": "double", "name": "variable", "required": true}]',
      }),
    );
    const r = await runCli(['models', 'register', 'converted', '--onnx', FIXTURE, '--signature', spec], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Registered converted version 2 from runs:\/[0-9a-f]{32}\/model/);
  });

  it('a file that is not ONNX, or a signature that does not fit, is one line and exit 1; nothing is registered', async () => {
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'this is not a protobuf');
    const cases: [string[], RegExp][] = [
      [['--onnx', junk, '--signature', 'a:double,b:double'], /junk\.onnx does not load as an ONNX model/],
      [
        ['--onnx', FIXTURE, '--signature', 'a:double'],
        /the signature does not fit .*sklearn-style-linear\.onnx: .*Got: 1 Expected: 2/,
      ],
      [['--onnx', FIXTURE, '--signature', 'a:double,b:string'], /column 'b' is a string/],
      [['--onnx', FIXTURE, '--signature', 'a:decimal'], /'a' has type "decimal"; use one of/],
      [['--onnx', join(dir, 'missing.onnx'), '--signature', 'a:double'], /no ONNX file at/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['models', 'register', 'rejected', ...args], env);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const usage = await runCli(['models', 'register', 'rejected', '--onnx', FIXTURE], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--onnx needs --signature/);
    await withStore(async (trestle) => {
      await expect(trestle.registry.getRegisteredModel('rejected')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
    // No run was started for a file that failed its check: only the two registrations above have one.
    const runs = await runCli(['runs', 'list', '--json'], env);
    const names = (JSON.parse(runs.stdout) as { runs: { info: { runName: string } }[] }).runs.map(
      (x) => x.info.runName,
    );
    expect(names.sort()).toEqual([
      'register converted from sklearn-style-linear.onnx',
      'register converted from sklearn-style-linear.onnx',
    ]);
    expect(existsSync(FIXTURE)).toBe(true);
  });
});
