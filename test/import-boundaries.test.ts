import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** Runs the CLI in a fresh Node process and returns every module specifier it resolved. */
function resolvedModules(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-imports-'));
  const log = join(dir, 'resolved.log');
  const hook = join(dir, 'hook.mjs');
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`,
  );
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module'; register(${JSON.stringify(`file://${hook}`)});`);
  execFileSync(process.execPath, ['--import', register, '--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, TRESTLE_HOME: join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('import boundaries', () => {
  it('trestle --version loads no database driver, cloud SDK or web framework', () => {
    const loaded = resolvedModules(['--version']);
    expect(loaded.some((u) => u.includes('packages/cli/src/main.ts'))).toBe(true);
    for (const heavy of ['/pg/', 'better-sqlite3', '@aws-sdk', 'fastify', 'kysely']) {
      expect(
        loaded.filter((u) => u.includes(heavy)),
        heavy,
      ).toEqual([]);
    }
  });

  it('an embedded-store command loads SQLite but not pg, the AWS SDK or fastify', () => {
    const loaded = resolvedModules(['experiments', 'create', 'boundaries', '--json']);
    expect(loaded.some((u) => u.includes('better-sqlite3'))).toBe(true);
    for (const heavy of ['/node_modules/pg/', '@aws-sdk', 'fastify']) {
      expect(
        loaded.filter((u) => u.includes(heavy)),
        heavy,
      ).toEqual([]);
    }
  });

  it('the client package declares no dependency on a driver, runtime or web framework', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages/client/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    expect(Object.keys(pkg.dependencies)).toEqual(['@trestle/core']);
    // The embedded store (SQLite and the drivers) is an optional peer: installed with the CLI, not with the SDK.
    expect(pkg.peerDependenciesMeta?.['@trestle/store']?.optional).toBe(true);
  });
});
