import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder of the `@trestle/ui` package. */
export const UI_PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Folder the built app is written to (`index.html` and hashed `assets/`). */
export const UI_DIST_DIR = join(UI_PACKAGE_DIR, 'dist');

/** Whether the app is built, and what to run when it is not. */
export interface UiBuildState {
  built: boolean;
  dir: string;
  /** One line saying how to build it, for people reading a page or a terminal. */
  howToBuild: string;
}

/**
 * Whether `dist/index.html` exists (the build writes it last, so its presence means the build finished).
 *
 * @example uiBuildState().built // true after `npm install`
 */
export function uiBuildState(dir: string = UI_DIST_DIR): UiBuildState {
  const root = join(UI_PACKAGE_DIR, '..', '..');
  return {
    built: existsSync(join(dir, 'index.html')),
    dir,
    howToBuild: `run 'npm install' (it builds the UI) or 'npm run build -w @trestle/ui' in ${root}, or start 'trestle ui', which builds it on first start`,
  };
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Whether the build exists and is newer than every source file of the app (`web/`), so tests
 * and `trestle ui` in a checkout never serve a stale build.
 *
 * @example if (!uiBuildIsCurrent()) await buildUi();
 */
export function uiBuildIsCurrent(): boolean {
  const index = join(UI_DIST_DIR, 'index.html');
  const web = join(UI_PACKAGE_DIR, 'web');
  if (!existsSync(index)) return false;
  // An installed package may ship dist/ without web/: then the build is all there is.
  return !existsSync(web) || statSync(index).mtimeMs >= newestSource(web);
}

/**
 * Builds the app with Vite in a child process (10–30 s on a small machine). Rejects with the
 * build's own output when it fails.
 *
 * @example await buildUi(); // dist/ is ready
 */
export async function buildUi(): Promise<void> {
  const require = createRequire(import.meta.url);
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const output: Buffer[] = [];
  const child = spawn(
    process.execPath,
    [vite, 'build', '--config', join(UI_PACKAGE_DIR, 'web', 'vite.config.ts'), '--logLevel', 'warn'],
    { cwd: UI_PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (b: Buffer) => output.push(b));
  child.stderr.on('data', (b: Buffer) => output.push(b));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`the UI build failed (exit ${String(code)}):\n${Buffer.concat(output).toString()}`);
}
