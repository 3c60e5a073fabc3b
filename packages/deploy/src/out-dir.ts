/**
 * Writing a generated folder (manifests, a chart, a Terraform module) all at once: the files go
 * to a temporary sibling first and the sibling is renamed into place, so a failure part-way
 * leaves the output folder as it was, never half-written.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { TrestleError } from '@trestle/core';

/** One generated file: `path` is relative to the output folder, with `/` separators. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

/** Options of {@link writeOutputFolder}. */
export interface WriteOutputOptions {
  /** Replace a folder that exists and is not empty (default false: refuse). */
  readonly force?: boolean;
}

/** Whether `dir` exists and holds at least one entry. */
export async function isNonEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new TrestleError('INVALID_ARGUMENT', `${dir} is a file, not a folder: choose another --out`, { dir });
    }
    throw err;
  }
}

/**
 * Refuses an output folder that exists and is not empty (unless `force`), or is a file.
 *
 * @throws TrestleError `ALREADY_EXISTS` or `INVALID_ARGUMENT`.
 */
export async function checkOutputFolder(out: string, force: boolean): Promise<void> {
  if ((await isNonEmptyFolder(out)) && !force) {
    throw new TrestleError(
      'ALREADY_EXISTS',
      `${out} exists and is not empty: choose an empty folder or pass --force to replace it`,
      { dir: out },
    );
  }
}

/**
 * Runs `fill(dir)` on a new temporary sibling of `out`, then puts it in place of `out`
 * (replacing an existing folder only when `force`). On failure the temporary folder is removed
 * and `out` is left as it was; the old folder is moved aside, not deleted, until the new one is in place.
 *
 * @example
 * await writeFolderAtomically('ctx', false, async (dir) => writeFile(join(dir, 'Dockerfile'), text));
 */
export async function writeFolderAtomically<T>(
  out: string,
  force: boolean,
  fill: (dir: string) => Promise<T>,
): Promise<T> {
  const target = resolve(out);
  await checkOutputFolder(out, force);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}.tmp-`));
  let result: T;
  try {
    // mkdtemp makes the folder private (0700); the result is an ordinary folder.
    await chmod(staging, 0o755);
    result = await fill(staging);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  let aside: string | undefined;
  try {
    if (await exists(target)) {
      aside = `${staging}-old`;
      await rename(target, aside);
    }
    await rename(staging, target);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (aside !== undefined) await rename(aside, target).catch(() => undefined);
    throw err;
  }
  if (aside !== undefined) await rm(aside, { recursive: true, force: true });
  return result;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Writes `files` as the whole content of `dir`.
 *
 * @throws TrestleError `ALREADY_EXISTS` when `dir` is not empty and `force` is not set (nothing written).
 * @example
 * await writeOutputFolder('deploy/k8s', [{ path: 'service.yaml', content: '…' }], { force: true });
 */
export async function writeOutputFolder(
  dir: string,
  files: readonly GeneratedFile[],
  options: WriteOutputOptions = {},
): Promise<void> {
  await writeFolderAtomically(dir, options.force === true, async (staging) => {
    for (const f of files) {
      if (f.path.startsWith('/') || f.path.split('/').includes('..')) {
        throw new TrestleError('INTERNAL', `generated file path '${f.path}' leaves the output folder`);
      }
      const path = join(staging, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.content);
    }
  });
}
