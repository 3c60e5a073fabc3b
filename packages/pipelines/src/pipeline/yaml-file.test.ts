import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caught } from '../../../../test/support/errors.js';
import { loadPipeline } from './definition.js';
import { lockText, readLockFile, writeLockFile, type LockFile } from './lockfile.js';
import { parseRemembered, yaml } from './yaml-file.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'trestle-yaml-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Parses with `yaml`, counting the calls. */
function counting(): { parse: (t: string) => unknown; calls: () => number } {
  let n = 0;
  return {
    parse: (t) => {
      n++;
      return yaml().parse(t) as unknown;
    },
    calls: () => n,
  };
}

describe('parseRemembered', () => {
  it('parses a text once per workspace, and again as soon as the text differs', () => {
    mkdirSync(join(root, '.trestle'));
    const file = join(root, 'params.yaml');
    const p = counting();
    expect(parseRemembered(file, 'a: 1\nb: [x, y]\n', p.parse)).toEqual({ a: 1, b: ['x', 'y'] });
    expect(parseRemembered(file, 'a: 1\nb: [x, y]\n', p.parse)).toEqual({ a: 1, b: ['x', 'y'] });
    expect(p.calls()).toBe(1);
    expect(parseRemembered(file, 'a: 2\nb: [x, y]\n', p.parse)).toEqual({ a: 2, b: ['x', 'y'] });
    expect(p.calls()).toBe(2);
  });

  it('remembers nothing outside a workspace, nor values JSON cannot carry, nor from a torn entry', () => {
    const file = join(root, 'params.yaml');
    const p = counting();
    parseRemembered(file, 'a: 1\n', p.parse);
    parseRemembered(file, 'a: 1\n', p.parse);
    expect(p.calls()).toBe(2); // no .trestle here

    mkdirSync(join(root, '.trestle'));
    expect(parseRemembered(file, 'lr: .inf\n', p.parse)).toEqual({ lr: Infinity });
    expect(parseRemembered(file, 'lr: .inf\n', p.parse)).toEqual({ lr: Infinity });
    expect(p.calls()).toBe(4);

    parseRemembered(file, 'a: 3\n', p.parse);
    const state = join(root, '.trestle', 'state');
    const [entry] = readdirSync(state);
    writeFileSync(join(state, entry!), readFileSync(join(state, entry!), 'utf8').slice(0, 20));
    expect(parseRemembered(file, 'a: 3\n', p.parse)).toEqual({ a: 3 });
    expect(p.calls()).toBe(6);
  });
});

describe('the pipeline and lock files through it', () => {
  it('a lock file edited by hand is read as edited, not as remembered', async () => {
    mkdirSync(join(root, '.trestle'));
    const file = join(root, 'trestle.lock');
    const lock: LockFile = {
      schema: '1',
      stages: {
        s: {
          cmd: 'echo "hi: there" > out.txt',
          key: 'k1',
          deps: [],
          params: { 'params.yaml': { lr: 0.1, layers: [1, 2], name: 'yes' } },
          outs: [{ path: 'out.txt', kind: 'file', sha256: 'ab', size: 3, files: 1 }],
        },
      },
    };
    await writeLockFile(file, lock);
    expect(await readLockFile(file)).toEqual(lock);
    writeFileSync(file, readFileSync(file, 'utf8').replace('key: k1', 'key: k2'));
    expect((await readLockFile(file)).stages['s']!.key).toBe('k2');
  });

  it('writes the lock file stage by stage exactly as yaml writes the whole file', () => {
    const path = (p: string) => ({ path: p, kind: 'file' as const, sha256: 'a'.repeat(64), size: 12, files: 1 });
    const lock: LockFile = {
      schema: '1',
      stages: {
        train: {
          cmd: 'python train.py --lr 0.1 \\\n  --out "model dir" # not a comment',
          key: 'f'.repeat(64),
          deps: [path('data/train.csv'), path('yes'), path('- dash: colon')],
          params: {
            'params.yaml': { 'train.lr': 0.1, 'train.layers': [64, 32], 'train.name': '007', nested: { a: null } },
          },
          outs: [path('model')],
        },
        '1': { cmd: 'echo "multi\nline"\n\necho two', key: 'k', deps: [], params: {}, outs: [] },
        'a.b-c': { cmd: "it's: quoted", key: 'k2', deps: [], params: { 'other.yaml': {} }, outs: [path('o.txt')] },
      },
    };
    const sorted = Object.fromEntries(
      Object.keys(lock.stages)
        .sort()
        .map((n) => [n, lock.stages[n]]),
    );
    const whole = yaml().stringify({ schema: '1', stages: sorted }, { lineWidth: 0 });
    expect(lockText(lock).split('\n').slice(1).join('\n')).toBe(whole);
    expect(yaml().parse(lockText(lock))).toEqual({ schema: '1', stages: lock.stages });
    expect(lockText({ schema: '1', stages: {} })).toMatch(/\nschema: "1"\nstages: \{\}\n$/);
    expect(yaml().parse(lockText({ schema: '1', stages: {} }))).toEqual({ schema: '1', stages: {} });
  });

  it('messages name the same stage line whether the pipeline was parsed or remembered', async () => {
    mkdirSync(join(root, '.trestle'));
    writeFileSync(
      join(root, 'trestle.yaml'),
      'stages:\n  ok:\n    cmd: echo\n\n  bad:\n    cmd: echo\n    colour: red\n',
    );
    const first = await caught(Promise.resolve().then(() => loadPipeline(join(root, 'trestle.yaml'))));
    const second = await caught(Promise.resolve().then(() => loadPipeline(join(root, 'trestle.yaml'))));
    expect(first.message).toMatch(/trestle\.yaml:5: stage 'bad': unknown field 'colour'/);
    expect(second.message).toBe(first.message);
    expect(readdirSync(join(root, '.trestle', 'state'))).toHaveLength(1);
  });
});
