import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../packages/cli/src/framework/dispatch.js';
import { registry } from '../packages/cli/src/registry.js';

/** The CLI on a terminal: tables fit its width (`--wide` for all), colour unless NO_COLOR; system errors in one line. */

const cliMain = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));
const LONG_NAME = 'a-run-name-much-longer-than-any-terminal-column-should-show-in-full';
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'trestle-cli-terminal-'));
  const stores = await openStores(loadConfig({}, { TRESTLE_HOME: home }));
  try {
    const run = await stores.metadata.createRun({ experimentId: '0', runName: LONG_NAME });
    await stores.metadata.updateRun(run.info.runId, { status: 'FINISHED', endTime: Date.now() });
  } finally {
    await stores.metadata.close();
    await stores.artifacts.close();
  }
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Runs the CLI in process with stdout a terminal `columns` wide. */
async function onTerminal(args: string[], env: Record<string, string> = {}, columns = 60): Promise<string> {
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns });
  const chunks: Buffer[] = [];
  stdout.on('data', (b: Buffer) => chunks.push(b));
  const code = await dispatch(args, registry, {
    stdout,
    stderr: new PassThrough(),
    env: { TRESTLE_HOME: home, ...env },
    version: '0.0.0-test',
  });
  expect(code).toBe(0);
  return Buffer.concat(chunks).toString('utf8');
}

// eslint-disable-next-line no-control-regex
const visible = (text: string): string => text.replace(/\x1b\[\d+m/g, '');

describe('trestle on a terminal', () => {
  it('fits runs list to the terminal width, cutting with …, and shows it whole with --wide', async () => {
    const fitted = await onTerminal(['runs', 'list'], { NO_COLOR: '1' });
    const lines = fitted.trimEnd().split('\n');
    expect(lines.length).toBe(2);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(fitted).toContain('…');
    expect(fitted).not.toContain(LONG_NAME);

    const wide = await onTerminal(['runs', 'list', '--wide'], { NO_COLOR: '1' });
    expect(wide).toContain(LONG_NAME);
  });

  it('colours the status on a terminal, and not with NO_COLOR', async () => {
    const coloured = await onTerminal(['runs', 'list', '--wide']);
    expect(coloured).toContain('\x1b[32mFINISHED');
    const plain = await onTerminal(['runs', 'list', '--wide'], { NO_COLOR: '1' });
    expect(plain).not.toContain('\x1b[');
    expect(visible(coloured).replace(/ +$/gm, '')).toBe(plain.replace(/ +$/gm, ''));
  });

  it('says in one line that the port is taken and what to do', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', cliMain, 'server', '--port', String(port)], {
        env: { ...process.env, TRESTLE_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      expect(stderr.trimEnd().split('\n')).toEqual([
        `trestle server: error: port ${port} on 127.0.0.1 is already in use (another trestle server?): stop that process, or pick another port with --port (0 picks a free one)`,
      ]);
    } finally {
      holder.close();
    }
  });
});
