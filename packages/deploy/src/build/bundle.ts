/**
 * One self-contained ES module per image, bundled by esbuild from the workspace's TypeScript.
 * Packages the image installs (native drivers) stay imports; packages whose code path the image
 * never takes are replaced by a module that says so when loaded; everything else is inlined.
 */
import { builtinModules } from 'node:module';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TrestleError } from '@trestle/core';
import { build, type Plugin } from 'esbuild';

export interface BundleOptions {
  /** Absolute path of the entry module. */
  readonly entry: string;
  readonly outfile: string;
  /** Packages left as imports; the context installs them with `npm ci`. */
  readonly external?: readonly string[];
  /** Packages replaced by a module that throws this message when loaded (paths the image never takes). */
  readonly absent?: Readonly<Record<string, string>>;
  /** Imports a package makes inside try/catch to probe for an optional add-on (e.g. pg's `pg-native`). */
  readonly optionalProbes?: readonly string[];
}

export interface BundleResult {
  /** Size of the output file. */
  readonly bytes: number;
  /** Packages the output imports at run time (Node built-ins aside), sorted. */
  readonly imports: readonly string[];
}

const builtins = new Set(builtinModules);

/**
 * Path of an entrypoint under `runtime/`: the TypeScript source in the workspace, the compiled
 * `.js` in a packed install.
 */
export function runtimeEntry(name: string): string {
  const ts = fileURLToPath(new URL(`./runtime/${name}.ts`, import.meta.url));
  return existsSync(ts) ? ts : fileURLToPath(new URL(`./runtime/${name}.js`, import.meta.url));
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for a Node built-in or a relative path. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtins.has(name) ? undefined : name;
}

function absentPlugin(absent: Readonly<Record<string, string>>): Plugin {
  const names = Object.keys(absent);
  return {
    name: 'trestle-absent',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) =>
        names.includes(args.path) ? { path: args.path, namespace: 'trestle-absent' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'trestle-absent' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in this image: ${absent[args.path]}`)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Bundles `entry` into one ES module for Node 20, minified.
 *
 * @throws TrestleError `FAILED_PRECONDITION` when the output imports a package that is neither
 *   declared external (so it would be missing from the image) nor an optional probe, or when a
 *   declared external is never imported (the image would install it for nothing).
 * @example
 * await bundle({ entry: '/…/serve-main.ts', outfile: 'ctx/serve.mjs', absent: { pg: 'serving needs no database' } });
 */
export async function bundle(o: BundleOptions): Promise<BundleResult> {
  const external = [...(o.external ?? [])];
  const result = await build({
    entryPoints: [o.entry],
    outfile: o.outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    external: [...external, ...(o.optionalProbes ?? [])],
    plugins: o.absent === undefined ? [] : [absentPlugin(o.absent)],
    // The inlined CommonJS packages call require(); an ES module has none of its own.
    banner: {
      js: "import { createRequire as __trestleRequire } from 'node:module'; const require = __trestleRequire(import.meta.url);",
    },
  });
  const imports = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const i of output.imports) {
      const name = i.external ? packageOf(i.path) : undefined;
      if (name !== undefined && !(o.optionalProbes ?? []).includes(name)) imports.add(name);
    }
  }
  const missing = [...imports].filter((n) => !external.includes(n));
  if (missing.length > 0) {
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `the bundle imports ${missing.join(', ')}, which the image would not install`,
    );
  }
  const unused = external.filter((n) => !imports.has(n));
  if (unused.length > 0) {
    throw new TrestleError('FAILED_PRECONDITION', `the bundle never imports ${unused.join(', ')}, declared external`);
  }
  return { bytes: (await stat(o.outfile)).size, imports: [...imports].sort() };
}
