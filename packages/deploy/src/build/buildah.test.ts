/**
 * Builds the model server's image from its generated Dockerfile with Debian's buildah (vfs
 * storage, chroot isolation: no daemon) and serves a prediction from it with `buildah run`.
 * No registry is reachable here, so the `node:20-slim` base is stood in for by an image built
 * `FROM scratch` out of this machine's node binary, its shared libraries (ldd) and an /etc/passwd
 * with the `node` user, passed as `--build-arg NODE_IMAGE`. Runs as root with buildah installed;
 * skips saying why otherwise, and fails in CI (.ci/run installs buildah).
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { loadModel } from '@trestle/models';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ROWS, writeTestPackage } from '../testing/model-package.js';
import { buildModelContext } from './model-context.js';

const run = promisify(execFile);
const hasBuildah = await run('buildah', ['--version']).then(
  () => true,
  () => false,
);
const isRoot = process.getuid?.() === 0;
const why = !hasBuildah ? 'buildah is not installed (apt-get install -y buildah)' : !isRoot ? 'not root' : undefined;
if (why !== undefined && process.env['CI'] === 'true' && !hasBuildah) {
  throw new Error(`CI: ${why}; .ci/run installs it`);
}
if (why !== undefined) console.warn(`skipping the buildah image build: ${why}`);

let work: string | undefined;
afterAll(async () => {
  if (work === undefined) return;
  await run('buildah', [...storage(work), 'rm', '--all']).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

/** A private storage root per run, so nothing is left in the machine's image store. */
const storage = (dir: string): string[] => [
  '--storage-driver',
  'vfs',
  '--root',
  join(dir, 'storage'),
  '--runroot',
  join(dir, 'run'),
];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The stand-in for node:20-slim: node, the libraries it links and a passwd with `node`. */
async function baseImage(dir: string): Promise<string> {
  const root = join(dir, 'base', 'rootfs');
  const node = await realpath(process.execPath);
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await copyFile(node, join(root, 'usr/local/bin/node'));
  const { stdout } = await run('ldd', [node]);
  for (const lib of stdout.match(/\/\S+/g) ?? []) {
    await mkdir(join(root, dirname(lib)), { recursive: true });
    await copyFile(await realpath(lib), join(root, lib));
  }
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777);
  await writeFile(join(dir, 'base', 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin\n');
  const tag = 'localhost/trestle-node-base:20';
  await run('buildah', [...storage(dir), 'bud', '--isolation', 'chroot', '-t', tag, join(dir, 'base')]);
  return tag;
}

describe.skipIf(why !== undefined)('the model-server image, built by buildah from the generated Dockerfile', () => {
  it('builds with its labels, user and health check, and serves what loadModel predicts', async () => {
    work = await mkdtemp(join(tmpdir(), 'deploy-buildah-'));
    const pkg = await writeTestPackage('flights-delay');
    const report = await buildModelContext({ uri: pkg, out: join(work, 'context') });
    const base = await baseImage(work);
    const tag = 'localhost/flights-delay:test';
    await run(
      'buildah',
      [
        ...storage(work),
        'bud',
        '--isolation',
        'chroot',
        '--pull=never',
        '--format',
        'docker',
        '--build-arg',
        `NODE_IMAGE=${base}`,
        '-t',
        tag,
        report.out,
      ],
      { maxBuffer: 16 << 20 },
    );
    const inspected = JSON.parse((await run('buildah', [...storage(work), 'inspect', tag])).stdout) as {
      Docker: {
        config: {
          User: string;
          Labels: Record<string, string>;
          Healthcheck?: { Test: string[] };
          ExposedPorts: Record<string, unknown>;
        };
      };
    };
    const config = inspected.Docker.config;
    expect(config.User).toBe('node');
    expect(config.Labels['dev.trestle.model.digest']).toBe(report.info.model.digest);
    expect(config.Labels['dev.trestle.model.name']).toBe('flights-delay');
    expect(config.Healthcheck?.Test).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
    expect(Object.keys(config.ExposedPorts)).toEqual(['8080/tcp']);

    const ctr = (await run('buildah', [...storage(work), 'from', '--pull=never', tag])).stdout.trim();
    const port = await freePort();
    const child = spawn(
      'buildah',
      [
        ...storage(work),
        'run',
        '--isolation',
        'chroot',
        '--network',
        'host',
        '--env',
        `TRESTLE_PORT=${port}`,
        '--env',
        'TRESTLE_HOST=127.0.0.1',
        ctr,
        '--',
        'node',
        'serve.mjs',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!stdout.includes('\n') && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stdout, stderr).toContain(`"url":"http://127.0.0.1:${port}"`);
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
      const res = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify(TEST_ROWS) });
      const body = (await res.json()) as { predictions: { probability: number }[] };
      const model = await loadModel(pkg);
      const want = await model.predictRows(TEST_ROWS);
      await model.close();
      expect(body.predictions.map((p) => p.probability)).toEqual(
        Array.from(want.outputs['probability'] as Float64Array),
      );
      // The files in the image are the context's, byte for byte.
      const mount = (await run('buildah', [...storage(work), 'mount', ctr])).stdout.trim();
      expect(await readFile(join(mount, 'app', 'serve.mjs'))).toEqual(await readFile(join(report.out, 'serve.mjs')));
      await run('buildah', [...storage(work), 'umount', ctr]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 300_000);
});
