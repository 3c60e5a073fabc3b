/**
 * Builds every workspace package to JavaScript with type declarations and packs each into an
 * npm tarball that installs outside the clone: `npm run pack -- [--out DIR] [--json]`.
 *
 * The workspace itself runs its TypeScript sources directly (tsx, Vitest), so nothing here
 * changes how the checkout works: each package is compiled into a staging folder beside a
 * rewritten package.json (exports pointing at the compiled `.js` and `.d.ts`, test helpers left
 * out) and packed from there. Every bare import in the compiled code must be a declared
 * dependency of its package, or the pack fails naming the import: a tarball that installs but
 * cannot load is worse than none.
 *
 * @example
 * const { tarballs } = await packWorkspace({ out: '.tmp/pack' });
 * // npm install ./.tmp/pack/tarballs/*.tgz in an empty folder gives a working `trestle`
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  name: string;
  version: string;
  description?: string;
  type?: string;
  exports?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface PackResult {
  /** Absolute paths of the tarballs, one per package. */
  tarballs: string[];
  /** Bytes of each tarball, by package name. */
  sizes: Record<string, number>;
}

/** Export subpaths that only tests use: they import Vitest and are not published. */
const TEST_ONLY_EXPORTS = new Set(['./testing']);

/**
 * Packages the published UI does not need: the app is shipped built (`dist/`), so Vite, React
 * and the plugin are build-time only.
 */
const BUILD_ONLY = new Map<string, Set<string>>([
  ['@trestle/ui', new Set(['vite', '@vitejs/plugin-react', 'react', 'react-dom', 'uplot'])],
]);

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

function packageDirs(): string[] {
  const base = join(ROOT, 'packages');
  return readdirSync(base)
    .map((name) => join(base, name))
    .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src')))
    .sort();
}

/**
 * Imports that are loaded only when present, each behind a guard: tsx (the SDK's exit worker
 * needs its loader only when running from TypeScript sources, and so does the monitoring drift pool's worker) and Vite (the UI builds itself only
 * when its `dist/` is missing, never in a packed copy).
 */
const GUARDED_IMPORTS = new Map<string, Set<string>>([
  ['@trestle/client', new Set(['tsx'])],
  ['@trestle/monitoring', new Set(['tsx'])],
  ['@trestle/ui', new Set(['vite'])],
]);

/** Compiles every package's sources (not tests, not test helpers) into `outDir/<package>/src`. */
async function compile(stage: string): Promise<void> {
  const config = join(stage, 'tsconfig.pack.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          declaration: true,
          rootDir: join(ROOT, 'packages'),
          outDir: join(stage, 'packages'),
          // The staging folder may be anywhere (a temporary folder in tests): types come from here.
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        include: [join(ROOT, 'packages/*/src/**/*.ts')],
        exclude: [join(ROOT, 'packages/*/src/**/*.test.ts'), join(ROOT, 'packages/*/src/testing/**')],
      },
      null,
      2,
    ),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, '-p', config], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const out = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`compiling the packages failed:\n${out || String(error)}`);
  }
}

function jsFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...jsFiles(path));
    else if (entry.name.endsWith('.js')) files.push(path);
  }
  return files;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bresolve\(\s*)['"]([^'"./\s][^'"\s]*)['"]/g;
const BUILTINS = new Set(builtinModules);

/** Bare specifiers the compiled code imports that its manifest does not declare. */
function undeclaredImports(dir: string, manifest: Omit<Manifest, 'exports'>): string[] {
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...(GUARDED_IMPORTS.get(manifest.name) ?? []),
  ]);
  const missing = new Set<string>();
  for (const file of jsFiles(join(dir, 'src'))) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (spec === undefined || spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0] ?? '')) continue;
      const parts = spec.split('/');
      const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
      if (!declared.has(name)) missing.add(`${name} (in ${relative(dir, file)})`);
    }
  }
  return [...missing].sort();
}

function publishedManifest(source: Manifest): Omit<Manifest, 'exports'> & Record<string, unknown> {
  const toJs = (path: string): string => path.replace(/\.ts$/, '.js');
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [subpath, target] of Object.entries(source.exports ?? {})) {
    if (TEST_ONLY_EXPORTS.has(subpath)) continue;
    exports[subpath] = { types: target.replace(/\.ts$/, '.d.ts'), default: toJs(target) };
  }
  const buildOnly = BUILD_ONLY.get(source.name) ?? new Set<string>();
  const dependencies = Object.fromEntries(
    Object.entries(source.dependencies ?? {}).filter(([name]) => !buildOnly.has(name)),
  );
  return {
    name: source.name,
    version: source.version,
    ...(source.description === undefined ? {} : { description: source.description }),
    type: 'module',
    engines: { node: '>=20' },
    exports,
    ...(source.bin === undefined ? {} : { bin: source.bin }),
    dependencies,
    ...(source.optionalDependencies === undefined ? {} : { optionalDependencies: source.optionalDependencies }),
    ...(source.peerDependencies === undefined ? {} : { peerDependencies: source.peerDependencies }),
    ...(source.peerDependenciesMeta === undefined ? {} : { peerDependenciesMeta: source.peerDependenciesMeta }),
  };
}

/** The CLI's launcher for the compiled code (the workspace one loads the sources through tsx). */
const CLI_BIN = `#!/usr/bin/env node
await import('../src/main.js');
`;

/**
 * Compiles and packs every package into `out/tarballs`.
 *
 * @example await packWorkspace({ out: '/tmp/trestle-pack' })
 */
export async function packWorkspace(options: {
  out: string;
  log?: ((line: string) => void) | undefined;
}): Promise<PackResult> {
  const log = options.log ?? (() => undefined);
  const stage = resolve(options.out);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'tarballs'), { recursive: true });
  log('compiling every package to JavaScript with declarations (tsc)');
  await compile(stage);

  const problems: string[] = [];
  const tarballs: string[] = [];
  const sizes: Record<string, number> = {};
  for (const sourceDir of packageDirs()) {
    const source = readManifest(sourceDir);
    const dir = join(stage, 'packages', relative(join(ROOT, 'packages'), sourceDir));
    const manifest = publishedManifest(source);
    for (const missing of undeclaredImports(dir, manifest)) problems.push(`${source.name} imports ${missing}`);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (source.bin !== undefined) {
      for (const target of Object.values(source.bin)) {
        mkdirSync(dirname(join(dir, target)), { recursive: true });
        writeFileSync(join(dir, target), CLI_BIN, { mode: 0o755 });
      }
      cpSync(join(ROOT, 'README.md'), join(dir, 'README.md'));
    }
    if (existsSync(join(sourceDir, 'dist'))) cpSync(join(sourceDir, 'dist'), join(dir, 'dist'), { recursive: true });
  }
  if (problems.length > 0) {
    throw new Error(`the compiled packages import what they do not declare:\n  ${problems.join('\n  ')}`);
  }
  for (const sourceDir of packageDirs()) {
    const dir = join(stage, 'packages', relative(join(ROOT, 'packages'), sourceDir));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', join(stage, 'tarballs')], {
      cwd: dir,
    });
    const file = join(stage, 'tarballs', stdout.trim().split('\n').pop() ?? '');
    const name = readManifest(dir).name;
    tarballs.push(file);
    sizes[name] = statSync(file).size;
    log(`packed ${name}: ${(sizes[name] / 1024).toFixed(0)} KiB`);
  }
  return { tarballs, sizes };
}

/**
 * Installs `packWorkspace`'s tarballs in `appDir` as a user would (`npm install` of every
 * tarball) and returns the path of the installed `trestle` command. Two shortcuts that do not
 * change what is installed: `--ignore-scripts` with better-sqlite3's compiled binding copied from
 * this checkout (same version, same Node; compiling it again would add a minute and test
 * better-sqlite3's build, not our packaging), and dependencies from npm's cache
 * (`--prefer-offline`; `npm ci` filled it). A folder without a package.json gets a private one,
 * so npm installs there and not in a project above it.
 *
 * @example
 * const { tarballs } = await packWorkspace({ out: '/tmp/pack' });
 * const trestle = await installPacked(tarballs, '/tmp/app'); // /tmp/app/node_modules/.bin/trestle
 */
export async function installPacked(tarballs: readonly string[], appDir: string): Promise<string> {
  mkdirSync(appDir, { recursive: true });
  if (!existsSync(join(appDir, 'package.json'))) {
    writeFileSync(join(appDir, 'package.json'), `${JSON.stringify({ name: 'trestle-app', private: true })}\n`);
  }
  const sqliteVersion = readManifest(join(ROOT, 'node_modules/better-sqlite3')).version;
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      `better-sqlite3@${sqliteVersion}`,
      ...tarballs,
    ],
    { cwd: appDir, maxBuffer: 16 * 1024 * 1024 },
  );
  cpSync(join(ROOT, 'node_modules/better-sqlite3/build'), join(appDir, 'node_modules/better-sqlite3/build'), {
    recursive: true,
  });
  return join(appDir, 'node_modules', '.bin', 'trestle');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log(
      'usage: npm run pack -- [--out DIR] [--json]\n' +
        'Compiles every package to JavaScript with type declarations and writes one npm tarball\n' +
        'per package to DIR/tarballs (default .tmp/pack). Install them all in any folder:\n' +
        '  npm install DIR/tarballs/*.tgz   # then: npx trestle --help',
    );
  } else {
    const outAt = args.indexOf('--out');
    const out = outAt >= 0 ? args[outAt + 1] : join(ROOT, '.tmp', 'pack');
    const json = args.includes('--json');
    if (out === undefined || out.startsWith('--')) {
      console.error('error: --out needs a folder');
      process.exitCode = 2;
    } else {
      try {
        const result = await packWorkspace({ out, log: json ? undefined : (line) => console.log(line) });
        if (json) console.log(JSON.stringify(result, null, 2));
        else console.log(`${result.tarballs.length} tarballs in ${join(resolve(out), 'tarballs')}`);
      } catch (error) {
        console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    }
  }
}
