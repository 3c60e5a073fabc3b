/**
 * Writing a generated folder all at once: files go to a temporary sibling of the target, which
 * is renamed into place only when everything is written, so a failure leaves nothing behind.
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { isNonEmptyFolder } from '../out-dir.js';
import { basename, dirname, join, resolve } from 'node:path';
import { TrestleError } from '@trestle/core';

/** Bytes and files under a folder. */
export interface FolderSize {
  readonly bytes: number;
  readonly files: number;
}

/** Sums the sizes of the regular files under `dir`. */
export async function folderSize(dir: string): Promise<FolderSize> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
    files++;
  }
  return { bytes, files };
}

/**
 * Refuses an output folder that exists and is not empty (unless `force`), or is a file, with
 * the same words as the other generators (see `out-dir.ts`).
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
 * and `out` is left as it was.
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
  const temp = await mkdtemp(join(parent, `.${basename(target)}.tmp-`));
  let result: T;
  try {
    // mkdtemp makes the folder private (0700); the result is an ordinary folder.
    await chmod(temp, 0o755);
    result = await fill(temp);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  let old: string | undefined;
  try {
    await stat(target);
    old = `${temp}-old`;
    await rename(target, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(temp, { recursive: true, force: true });
      throw err;
    }
  }
  await rename(temp, target);
  if (old !== undefined) await rm(old, { recursive: true, force: true });
  return result;
}
