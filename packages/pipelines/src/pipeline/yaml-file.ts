import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../atomic-file.js';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let yamlModule: typeof Yaml | undefined;

/**
 * The `yaml` package, loaded on first use (synchronously, its CommonJS build): a run whose
 * YAML files are all remembered never loads its 72 modules.
 */
export function yaml(): typeof Yaml {
  yamlModule ??= require('yaml') as typeof Yaml;
  return yamlModule;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Where the parsed form of `file` is remembered: the `.trestle/state/` of the file's folder
 * (the workspace of a pipeline, its parameters and its lock file), one entry per file. Nothing
 * is remembered in a folder that has no `.trestle` yet.
 */
function entryOf(file: string): string | undefined {
  const home = join(dirname(file), '.trestle');
  return existsSync(home) ? join(home, 'state', `yaml-${sha256(file).slice(0, 24)}.json`) : undefined;
}

/** Whether `value` survives a JSON round trip unchanged (YAML can also say `.inf`, sets, binary…). */
function jsonSafe(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(jsonSafe);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).every(([k, v]) => k !== '__proto__' && jsonSafe(v));
  }
  return false;
}

/**
 * Remembers that `text` (the content of `file`) parses to `parsed`, keyed by the text's
 * SHA-256 so that a stale entry can never be taken for the file's meaning. Best effort:
 * values JSON cannot carry exactly, and any write error, leave nothing remembered.
 */
export function rememberParsed(file: string, text: string, parsed: unknown): void {
  const entry = entryOf(file);
  if (entry !== undefined) remember(entry, sha256(text), parsed);
}

function remember(entry: string, digest: string, parsed: unknown): void {
  if (!jsonSafe(parsed)) return;
  try {
    writeFileAtomicSync(entry, JSON.stringify({ sha256: digest, parsed }));
  } catch {
    // only a memo: the next read parses again
  }
}

/**
 * Parses `text`, the content of `file`, with `parse`, or returns what it parsed to when this
 * exact text was seen before. Parsing with `yaml` runs at ~0.5 MB/s in a new process (the
 * 47 kB lock file of a 100-stage pipeline took 114 ms, most of a fully cached `trestle run`);
 * reading the remembered JSON takes under 1 ms. `parse` must be a pure function of the text.
 *
 * @example const value = parseRemembered('/repo/trestle.lock', text, (t) => yaml().parse(t));
 */
export function parseRemembered<T>(file: string, text: string, parse: (text: string) => T): T {
  const entry = entryOf(file);
  if (entry === undefined) return parse(text);
  const digest = sha256(text);
  try {
    const kept = JSON.parse(readFileSync(entry, 'utf8')) as { sha256?: unknown; parsed?: unknown };
    if (kept.sha256 === digest) return kept.parsed as T;
  } catch {
    // none yet, or unreadable: parse
  }
  const parsed = parse(text);
  remember(entry, digest, parsed);
  return parsed;
}
