import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrestleError } from '@trestle/core';
import { writeFileAtomic } from '../atomic-file.js';
import { parseRemembered, yaml } from './yaml-file.js';

/** The lock file next to `trestle.yaml` (DVC's `dvc.lock`). */
export const LOCK_FILE = 'trestle.lock';

/** A path version recorded in the lock file (a dependency or an output of a stage). */
export interface LockedPath {
  /** Relative to the workspace root, `/`-separated. */
  path: string;
  kind: 'file' | 'dir';
  sha256: string;
  size: number;
  files: number;
}

/** What the lock file records of a stage's last good run. */
export interface LockedStage {
  cmd: string;
  /** The stage key: SHA-256 of command, dependency hashes, parameter values and output paths. */
  key: string;
  deps: LockedPath[];
  /** Parameter values by file, then by dotted key. */
  params: Record<string, Record<string, unknown>>;
  outs: LockedPath[];
}

/** The whole lock file. */
export interface LockFile {
  schema: '1';
  stages: Record<string, LockedStage>;
}

/** Reads `trestle.lock` at `file` (an empty lock when there is none); `INVALID_ARGUMENT` when it is not one. */
export async function readLockFile(file: string): Promise<LockFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { schema: '1', stages: {} };
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = parseRemembered(file, text, (t) => yaml().parse(t) as unknown);
  } catch (err) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `'${file}' is not valid YAML (${(err as Error).message.split('\n')[0]}); restore it from git or delete it to rerun every stage`,
      { file },
    );
  }
  const stages = (parsed as { stages?: unknown } | null)?.stages;
  if (parsed === null || parsed === undefined) return { schema: '1', stages: {} };
  if (typeof stages !== 'object' || stages === null) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `'${file}' has no 'stages' map; restore it from git or delete it to rerun every stage`,
      { file },
    );
  }
  return { schema: '1', stages: stages as Record<string, LockedStage> };
}

const HEADER = "# Trestle lock file: the hashes and parameters of each stage's last good run. Commit it.\n";

// Each stage's YAML, kept with the entry it was made from: entries are replaced, never changed,
// so a lock file written after each of 100 stages costs 100 small stringifications, not 100
// of the whole file (a quarter of a cold 100-stage run's CPU went to that).
const stageYaml = new WeakMap<LockedStage, { name: string; text: string }>();

function stageText(name: string, stage: LockedStage): string {
  const kept = stageYaml.get(stage);
  if (kept?.name === name) return kept.text;
  // The stage as `yaml` writes it under `stages:`, two spaces in (block scalars included).
  const text = yaml()
    .stringify({ [name]: stage }, { lineWidth: 0 })
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  stageYaml.set(stage, { name, text });
  return text;
}

/** The text of a lock file: `yaml`'s own output for the whole, stages sorted by name. */
export function lockText(lock: LockFile): string {
  const names = Object.keys(lock.stages).sort();
  if (names.length === 0) return `${HEADER}schema: "1"\nstages: {}\n`;
  return `${HEADER}schema: "1"\nstages:\n${names.map((n) => stageText(n, lock.stages[n]!)).join('')}`;
}

/** A lock file as written: its text and the value that text parses to. */
export interface WrittenLock {
  text: string;
  content: LockFile;
}

/**
 * Writes the lock file atomically (stages sorted by name, so diffs stay small). The caller may
 * remember what the text parses to ({@link rememberParsed}) once it has written its last.
 */
export async function writeLockFile(file: string, lock: LockFile): Promise<WrittenLock> {
  const sorted: Record<string, LockedStage> = {};
  for (const name of Object.keys(lock.stages).sort()) sorted[name] = lock.stages[name]!;
  const content: LockFile = { schema: '1', stages: sorted };
  const text = lockText(content);
  await writeFileAtomic(file, text);
  return { text, content };
}

/**
 * Every output version the lock file of the workspace at `root` records, for `trestle data
 * gc` (which must keep them) and `trestle data push`.
 */
export async function lockedVersions(root: string, file = join(root, LOCK_FILE)): Promise<LockedPath[]> {
  const lock = await readLockFile(file);
  return Object.values(lock.stages).flatMap((s) => [...(s.outs ?? []), ...(s.deps ?? [])]);
}
