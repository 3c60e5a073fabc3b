import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

function temporaryName(file: string): string {
  return `${file}.tmp-${randomBytes(6).toString('hex')}`;
}

/**
 * Writes `file` whole or not at all: into a temporary name beside it, then renamed over it, so
 * a reader never sees half a file and two writers leave one whole version. The temporary file
 * is removed when anything fails, and the error is passed on.
 *
 * @example await writeFileAtomic('/repo/trestle.lock', text);
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = temporaryName(file);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** {@link writeFileAtomic}, synchronously, creating the file's folder when it is missing. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = temporaryName(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
