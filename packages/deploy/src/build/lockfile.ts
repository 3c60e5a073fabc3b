/**
 * The `package.json` and `package-lock.json` a build context installs with `npm ci`: only the
 * packages its bundle leaves as imports (native drivers such as better-sqlite3), at exactly the
 * versions this workspace runs, cut out of the workspace's own lockfile.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrestleError } from '@trestle/core';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/** The folder holding the workspace's `package-lock.json` (the one with `workspaces`). */
export function workspaceRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'package-lock.json'))) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown };
      if (json.workspaces !== undefined) return dir;
    }
    if (dirname(dir) === dir) {
      throw new TrestleError('FAILED_PRECONDITION', `no npm workspace with a package-lock.json above ${from}`);
    }
  }
}

/** The node_modules path `name` resolves to from the package at `from` (Node's lookup, over lock paths). */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

/**
 * A package.json and a lockfile (v3) that install exactly `names` and what they need, at the
 * versions of the workspace's lockfile.
 *
 * @throws TrestleError `FAILED_PRECONDITION` when a name is not installed in the workspace.
 * @example
 * const { packageJson, lockfile } = installManifest('trestle-server', ['better-sqlite3', 'pg']);
 */
export function installManifest(
  appName: string,
  names: readonly string[],
  root: string = workspaceRoot(),
): { packageJson: string; lockfile: string } {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const picked: Record<string, LockEntry> = {};
  const dependencies: Record<string, string> = {};
  const queue: string[] = [];
  const optional = new Set<string>();
  for (const name of [...names].sort()) {
    const path = `node_modules/${name}`;
    const entry = lock.packages[path];
    if (entry?.version === undefined || entry.link === true) {
      throw new TrestleError('FAILED_PRECONDITION', `${name} is not installed in the workspace at ${root}`);
    }
    dependencies[name] = entry.version;
    queue.push(path);
  }
  while (queue.length > 0) {
    const path = queue.shift()!;
    if (picked[path] !== undefined) continue;
    const entry = lock.packages[path]!;
    // The flags describe the workspace's graph (dev-only, optional); here every package is a runtime one.
    const { dev: _dev, devOptional: _devOptional, peer: _peer, optional: _optional, ...kept } = entry;
    picked[path] = kept;
    const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {})
      .filter(([, m]) => m.optional === true)
      .map(([n]) => n);
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n)),
    ];
    for (const dep of wanted) {
      const found = resolveIn(lock.packages, path, dep);
      if (found === undefined) {
        throw new TrestleError('FAILED_PRECONDITION', `${dep} (needed by ${path}) is not in the workspace lockfile`);
      }
      queue.push(found);
    }
    // Optional dependencies (platform binaries) are kept when the workspace has them.
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      const found = resolveIn(lock.packages, path, dep);
      if (found !== undefined) {
        queue.push(found);
        optional.add(found);
      }
    }
  }
  const required = new Set<string>();
  const mark = (path: string): void => {
    if (required.has(path)) return;
    required.add(path);
    const entry = lock.packages[path]!;
    for (const dep of Object.keys(entry.dependencies ?? {})) {
      const found = resolveIn(lock.packages, path, dep);
      if (found !== undefined) mark(found);
    }
  };
  for (const name of names) mark(`node_modules/${name}`);
  const sorted = Object.fromEntries(
    Object.entries(picked)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([path, e]) => [path, optional.has(path) && !required.has(path) ? { ...e, optional: true } : e]),
  );
  const manifest = { name: appName, version: '1.0.0', private: true, type: 'module', dependencies };
  return {
    packageJson: `${JSON.stringify(manifest, null, 2)}\n`,
    lockfile: `${JSON.stringify(
      {
        name: appName,
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: appName, version: '1.0.0', dependencies }, ...sorted },
      },
      null,
      2,
    )}\n`,
  };
}
