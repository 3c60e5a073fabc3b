import { readFile } from 'node:fs/promises';
import { TrestleError } from '@trestle/core';
import { writeFileAtomic } from '../atomic-file.js';

/** The suffix of pointer files: `data/flights.parquet` → `data/flights.parquet.trestle`. */
export const POINTER_SUFFIX = '.trestle';

/**
 * What a pointer file names: one version of a file or a folder. For a folder, `sha256` is the
 * hash of its manifest (see `manifestText`), `size` the sum of its files and `files` their
 * number.
 */
export interface DataPointer {
  /** The data's path relative to the pointer's folder (its base name, as written by `data add`). */
  path: string;
  kind: 'file' | 'dir';
  sha256: string;
  /** Bytes. */
  size: number;
  files: number;
}

const HEADER = [
  '# Trestle data pointer: commit this file to git (the data itself is listed in .gitignore).',
  "# 'trestle data checkout' restores the version it names; 'trestle data pull' fetches it from the remote.",
];

/** The text of a pointer file: YAML, one key per line. */
export function formatPointer(p: DataPointer): string {
  return `${[
    ...HEADER,
    `path: ${JSON.stringify(p.path)}`,
    `kind: ${p.kind}`,
    `sha256: ${p.sha256}`,
    `size: ${p.size}`,
    `files: ${p.files}`,
  ].join('\n')}\n`;
}

/**
 * Reads a pointer file. `NOT_FOUND` when it does not exist, `INVALID_ARGUMENT` (naming the file
 * and the line) when it is not a pointer.
 */
export async function readPointer(file: string): Promise<DataPointer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      throw new TrestleError(
        'NOT_FOUND',
        `pointer file '${file}' does not exist; track the data with 'trestle data add'`,
      );
    }
    throw err;
  }
  return parsePointer(text, file);
}

/** Parses the text of a pointer file (see {@link readPointer}). */
export function parsePointer(text: string, file = 'pointer'): DataPointer {
  const fields = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([a-z0-9_]+):\s*(.*)$/.exec(line);
    if (m === null) throw bad(file, `line ${i + 1} is not 'key: value'`);
    fields.set(m[1]!, m[2]!);
  });
  const need = (key: string): string => {
    const v = fields.get(key);
    if (v === undefined || v === '') throw bad(file, `'${key}' is missing`);
    return v;
  };
  let path = need('path');
  if (path.startsWith('"')) {
    try {
      path = JSON.parse(path) as string;
    } catch {
      throw bad(file, `'path' is not a quoted string`);
    }
  }
  const kind = need('kind');
  if (kind !== 'file' && kind !== 'dir') throw bad(file, `'kind' must be file or dir, got '${kind}'`);
  const sha256 = need('sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad(file, `'sha256' is not 64 hex digits`);
  const size = Number(need('size'));
  const files = Number(need('files'));
  if (!Number.isSafeInteger(size) || size < 0) throw bad(file, `'size' is not a byte count`);
  if (!Number.isSafeInteger(files) || files < 0) throw bad(file, `'files' is not a count`);
  if (path.includes('/') || path === '..' || path === '.')
    throw bad(file, `'path' must be a name in the pointer's folder`);
  return { path, kind, sha256, size, files };
}

function bad(file: string, why: string): TrestleError {
  return new TrestleError(
    'INVALID_ARGUMENT',
    `'${file}' is not a Trestle pointer file: ${why}; restore it from git or run 'trestle data add' again`,
    { file },
  );
}

/** Writes a pointer file atomically. */
export async function writePointer(file: string, p: DataPointer): Promise<void> {
  await writeFileAtomic(file, formatPointer(p));
}
