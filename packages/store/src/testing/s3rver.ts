import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running s3rver child process. */
export interface S3rverProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Stops the server (closing its stdin) and, if it made it, removes its data folder. */
  stop(): Promise<void>;
}

// s3rver signs its ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only
// offers with the legacy provider, so the server runs in its own process with that flag
// (the test process keeps the default crypto). It prints its port, and stops when stdin closes.
const S3RVER_MAIN = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[2] });
server.run().then(({ port }) => console.log(JSON.stringify({ port })));
process.stdin.on('end', () => server.close().finally(() => process.exit(0)));
process.stdin.resume();
`;

/**
 * Starts an S3-protocol server (s3rver) on a random port in a child process, storing its
 * buckets under `directory` (default: a new temporary folder, removed by `stop`).
 *
 * @example
 * const s3 = await startS3rver();
 * const store = S3ArtifactStore.fromUri('s3://bucket/p', { endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
 * await s3.stop();
 */
export async function startS3rver(directory?: string): Promise<S3rverProcess> {
  const dataDir = directory ?? (await mkdtemp(join(tmpdir(), 'trestle-s3rver-')));
  const main = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', S3RVER_MAIN, main, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`s3rver exited with code ${String(code)} before listening`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  lines.close();
  const port = (JSON.parse(line) as { port: number }).port;
  return {
    child,
    port,
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const done = once(child, 'exit');
        child.stdin?.end();
        await done;
      }
      if (directory === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
