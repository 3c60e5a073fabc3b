/**
 * `trestle ui` in its own process, as a user runs it: it prints the URL, `/` there is the built
 * app (not a blank page), the API behind it answers, and Ctrl-C (SIGTERM) stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUi, uiBuildIsCurrent } from '@trestle/ui';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const root = join(import.meta.dirname, '..');

describe('trestle ui', () => {
  let home: string;
  beforeAll(async () => {
    if (!uiBuildIsCurrent()) await buildUi();
    home = mkdtempSync(join(tmpdir(), 'trestle-cli-ui-'));
  }, 120_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('serves the app on the local store and prints its URL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'packages/cli/src/main.ts', 'ui', '--port', '0', '--json'],
      {
        cwd: root,
        env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!/"url"/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const printed = JSON.parse(stdout) as { url: string; api: string; auth: boolean };
      expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(printed.auth).toBe(false);
      const page = await fetch(printed.url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<div id="root"></div>');
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      expect((await fetch(new URL(script!, printed.url))).status).toBe(200);
      const experiments = await fetch(`${printed.api}/experiments`);
      expect(experiments.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000); // the child's start-up is waited for up to 60 s above

  it('refuses a bad port as a usage error', async () => {
    const r = await runCli(['ui', '--port', 'http'], { TRESTLE_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port expects a TCP port number');
  });
});
