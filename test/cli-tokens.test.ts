import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { openStores } from '@trestle/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

describe('trestle tokens', () => {
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-cli-tokens-'));
    env = { TRESTLE_HOME: home };
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('creates a token and prints its secret once, lists without secrets, and revokes', async () => {
    const created = await runCli(['tokens', 'create', '--name', 'ci', '--role', 'editor'], env);
    expect(created.code, created.stderr).toBe(0);
    const secret = /trestle_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
    expect(secret).toBeDefined();
    expect(created.stdout).toMatch(/Created editor token [0-9a-f]{16} \('ci'\)/);
    expect(created.stdout).toMatch(/shown this once/);
    expect(created.stdout).toContain(`export TRESTLE_TRACKING_TOKEN=${secret}`);

    const json = await runCli(['tokens', 'create', '--name', 'nb', '--role', 'reader', '--json'], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      token: string;
      info: { tokenId: string; role: string; prefix: string };
    };
    expect(parsed.info.role).toBe('reader');
    expect(parsed.token.startsWith(parsed.info.prefix)).toBe(true);

    const listed = await runCli(['tokens', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ROLE\s+PREFIX\s+CREATED\s+LAST USED\s+STATUS$/);
    expect(listed.stdout).toMatch(/\bci\s+editor\s+trestle_\S{6}…\s.*\bactive$/m);
    expect(listed.stdout).not.toContain(secret);
    expect(listed.stdout).not.toContain(parsed.token);
    const listedJson = await runCli(['tokens', 'list', '--json'], env);
    const items = JSON.parse(listedJson.stdout) as { tokenId: string; name: string; revokedTime: number | null }[];
    expect(items.map((t) => t.name)).toEqual(['ci', 'nb']);
    expect(listedJson.stdout).not.toContain(secret);

    const ciId = items[0]!.tokenId;
    const revoked = await runCli(['tokens', 'revoke', ciId], env);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked token ${ciId}.\n` });
    const after = JSON.parse((await runCli(['tokens', 'list', '--json'], env)).stdout) as typeof items;
    expect(after.find((t) => t.tokenId === ciId)?.revokedTime).toEqual(expect.any(Number));
    expect((await runCli(['tokens', 'list'], env)).stdout).toMatch(/\bci\s+editor\s.*\brevoked \d{4}-/);

    const stores = await openStores(loadConfig({}, env));
    try {
      expect(await stores.metadata.tokens.verifyToken(secret!)).toBeUndefined();
      expect((await stores.metadata.tokens.verifyToken(parsed.token))?.name).toBe('nb');
    } finally {
      await stores.metadata.close();
      await stores.artifacts.close();
    }
  });

  it('reports a missing token as a failure naming the list command', async () => {
    const r = await runCli(['tokens', 'revoke', '0123456789abcdef'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tokens revoke: error: token '0123456789abcdef' does not exist; 'trestle tokens list'/);
  });

  it.each([
    [
      ['tokens', 'create', '--name', 'x', '--role', 'owner'],
      /--role expects one of reader, editor, admin, got 'owner'/,
    ],
    [['tokens', 'create', '--name', 'x'], /--role is required: one of reader, editor, admin/],
    [['tokens', 'create', '--role', 'admin'], /--name is required/],
    [['tokens', 'revoke'], /expected TOKEN_ID, got 0 argument/],
    [['tokens', 'list', 'extra'], /expected no arguments, got 1 argument/],
  ])('%j is a usage error: exit 2 and one line', async (args, message) => {
    const r = await runCli(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('documents --auth on trestle server', async () => {
    const r = await runCli(['server', '--help'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--auth\s+require API tokens/);
  });

  it('makes tokens a server with --auth on the same store accepts, and then needs no bootstrap token', async () => {
    const created = await runCli(['tokens', 'create', '--name', 'ops', '--role', 'admin', '--json'], env);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const config = loadConfig({}, env);
    const server = await startServer({ config, port: 0, logger: false, handleSignals: false, auth: true });
    try {
      expect(server.bootstrapToken).toBeUndefined();
      const res = await fetch(`${server.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const names = ((await res.json()) as { items: { name: string }[] }).items.map((t) => t.name);
      expect(names).toEqual(['ci', 'nb', 'ops']);
      expect((await fetch(`${server.url}/api/v1/experiments`)).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('a token created and then revoked from the CLI while a server runs on the same SQLite file is accepted, then refused', async () => {
    const config = loadConfig({}, env);
    const server = await startServer({ config, port: 0, logger: false, handleSignals: false, auth: true });
    const asTokens = (token: string): Promise<Response> =>
      fetch(`${server.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
    try {
      // Two store instances on one file: the server's (open, serving) and the CLI process's.
      const created = await runCli(['tokens', 'create', '--name', 'live', '--role', 'admin', '--json'], env);
      expect(created.code, created.stderr).toBe(0);
      const { token, info } = JSON.parse(created.stdout) as { token: string; info: { tokenId: string } };
      expect((await asTokens(token)).status).toBe(200);
      const revoked = await runCli(['tokens', 'revoke', info.tokenId], env);
      expect(revoked.code, revoked.stderr).toBe(0);
      const refused = await asTokens(token);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    } finally {
      await server.close();
    }
  });
});
