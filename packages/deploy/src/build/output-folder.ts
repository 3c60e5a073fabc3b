/** The size of a written build context (writing it all at once is `../out-dir.ts`). */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

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
