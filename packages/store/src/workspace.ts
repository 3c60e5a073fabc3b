import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Files that mark a workspace root (besides the `.trestle` folder). */
const MARKERS = ['trestle.yaml', 'dvc.yaml'];

/** Where a command works: the workspace root and Trestle's folder in it. */
export interface Workspace {
  /** Absolute root: pointer files are found under it, `trestle.yaml` is in it. */
  root: string;
  /** Absolute `.trestle` folder (or `TRESTLE_HOME`): cache, state, logs, the embedded store. */
  home: string;
}

/**
 * The workspace of `cwd`: the nearest folder at or above it that has a `.trestle` folder, a
 * `trestle.yaml` or a `dvc.yaml` (so commands work from any subfolder, as git finds `.git`),
 * else `cwd` itself. `home` is the configured home: absolute as given, or relative to the root.
 * The CLI finds the embedded store (`<home>/trestle.db`) this way unless `TRESTLE_HOME` is set.
 * Only `node:fs` and `node:path`: loading it loads no driver (`@trestle/store/workspace`).
 *
 * @example findWorkspace('/repo/data/raw', '.trestle') // { root: '/repo', home: '/repo/.trestle' }
 */
export function findWorkspace(cwd: string, home = '.trestle'): Workspace {
  const start = resolve(cwd);
  let root = start;
  for (let dir = start; ; dir = dirname(dir)) {
    if (
      (!isAbsolute(home) && existsSync(join(dir, home))) ||
      existsSync(join(dir, '.trestle')) ||
      MARKERS.some((m) => existsSync(join(dir, m)))
    ) {
      root = dir;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return { root, home: isAbsolute(home) ? home : resolve(root, home) };
}
