import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TrestleError } from '@trestle/core';
import { parseRemembered, yaml } from './yaml-file.js';

/** A parameter reference of a stage: keys of one parameters file. */
export interface ParamsRef {
  /** Relative to the workspace root, `/`-separated (`params.yaml` by default). */
  file: string;
  /** Dotted keys; empty means every key of the file. */
  keys: string[];
}

/** One stage after templating: every path relative to the workspace root, `/`-separated. */
export interface Stage {
  name: string;
  cmd: string;
  /** Where the command runs, relative to the root (`.` for the root). */
  wdir: string;
  deps: string[];
  params: ParamsRef[];
  /** Outputs, cached and restored by the stage cache (metrics files included). */
  outs: string[];
  /**
   * Outputs marked `cache: false` (DVC's flag): not stored in the object cache. As in DVC, a
   * stage with one is never restored from the run cache: it runs again whenever its key
   * differs from the one in the lock file (for stages with effects beyond their outputs, such
   * as registering a model).
   */
  uncached: string[];
  /** `always_changed: true` (DVC's flag): the stage runs every time, never skipped nor restored. */
  alwaysChanged: boolean;
  /** JSON (or YAML) metrics files among the outputs, logged to the stage's run. */
  metrics: string[];
  /** 1-based line of the stage in the file, for messages. */
  line: number;
}

/** A parsed pipeline file. */
export interface Pipeline {
  /** Absolute path of `trestle.yaml` (or `dvc.yaml`). */
  file: string;
  /** Absolute workspace root: the file's folder. */
  root: string;
  stages: Stage[];
}

/** The pipeline file names looked for, in order. */
export const PIPELINE_FILES = ['trestle.yaml', 'dvc.yaml'] as const;

/** The default parameters file (DVC's). */
export const DEFAULT_PARAMS_FILE = 'params.yaml';

type Scope = Record<string, unknown>;

function posix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/** A path as people read it: relative to the working directory when inside it, else absolute. */
export function shownPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
}

function invalid(file: string, line: number | undefined, message: string): TrestleError {
  const where = line === undefined ? file : `${file}:${line}`;
  return new TrestleError('INVALID_ARGUMENT', `${where}: ${message}`, {
    file,
    ...(line === undefined ? {} : { line }),
  });
}

/** A YAML file's value, with the line of each key of its top-level maps (for messages). */
export interface YamlFile {
  value: unknown;
  /** `keyLines[top][key]`: 1-based line of `key` in the map under the top-level key `top`. */
  keyLines: Record<string, Record<string, number>>;
}

/**
 * Reads a YAML file, refusing malformed YAML with the line and column of the first error.
 * The parsed form is remembered by content (see {@link parseRemembered}).
 */
export function readYaml(file: string, shown = file): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      throw new TrestleError('NOT_FOUND', `no ${shown} here; create one or pass -f FILE`, { file: shown });
    }
    throw err;
  }
  return parseRemembered(file, text, (t) => parseYaml(t, shown));
}

function parseYaml(text: string, shown: string): YamlFile {
  const { LineCounter, isMap, isScalar, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = first.linePos?.[0];
    const at = pos === undefined ? '' : `:${pos.line}:${pos.col}`;
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${shown}${at}: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      {
        file: shown,
        ...(pos === undefined ? {} : { line: pos.line, column: pos.col }),
      },
    );
  }
  const keyLines: Record<string, Record<string, number>> = {};
  if (isMap(doc.contents)) {
    for (const top of doc.contents.items) {
      if (!isScalar(top.key) || !isMap(top.value)) continue;
      const at: Record<string, number> = {};
      for (const pair of top.value.items) {
        if (isScalar(pair.key) && pair.key.range !== undefined && pair.key.range !== null) {
          at[String(pair.key.value)] = lines.linePos(pair.key.range[0]).line;
        }
      }
      keyLines[String(top.key.value)] = at;
    }
  }
  return { value: doc.toJS() as unknown, keyLines };
}

/** Looks up a dotted key (`train.lr`) in nested maps; `undefined` when absent. */
export function lookup(scope: unknown, key: string): unknown {
  let v: unknown = scope;
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const TEMPLATE = /\$\{\s*([A-Za-z_][\w.-]*)\s*\}/g;

/** Replaces `${key}` with values from the scope; an unknown key is an error naming it. */
function interpolate(value: unknown, scope: Scope, fail: (msg: string) => never): unknown {
  if (typeof value === 'string') {
    return value.replace(TEMPLATE, (_, key: string) => {
      const v = lookup(scope, key);
      if (v === undefined) fail(`'\${${key}}' is not defined (not in vars, params.yaml, or the foreach/matrix item)`);
      if (v !== null && typeof v === 'object') fail(`'\${${key}}' is a map or list, not a value`);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, scope, fail));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, scope, fail)]));
  }
  return value;
}

/** Cartesian product of a matrix: `{a: [1, 2], b: [x]}` → `[{a:1,b:x},{a:2,b:x}]`. */
function product(matrix: Record<string, unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(matrix)) out = out.flatMap((row) => values.map((v) => ({ ...row, [k]: v })));
  return out;
}

function nameSuffix(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/**
 * Expands a stage definition's `foreach`/`do` or `matrix` into concrete definitions, named as
 * DVC names them (`train@a`, `train@0`, `build@a-1`).
 */
function expand(
  name: string,
  def: Record<string, unknown>,
  fail: (msg: string) => never,
): [string, Record<string, unknown>, Scope][] {
  if ('foreach' in def) {
    const body = def['do'];
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      fail(`'foreach' needs a 'do' map with the stage`);
    const items = def['foreach'];
    if (Array.isArray(items)) {
      return (items as unknown[]).map((item, i): [string, Record<string, unknown>, Scope] => [
        `${name}@${typeof item === 'object' && item !== null ? i : nameSuffix(item)}`,
        body as Record<string, unknown>,
        { item, key: i },
      ]);
    }
    if (items !== null && typeof items === 'object') {
      return Object.entries(items as Record<string, unknown>).map(
        ([key, item]): [string, Record<string, unknown>, Scope] => [
          `${name}@${key}`,
          body as Record<string, unknown>,
          { item, key },
        ],
      );
    }
    return fail(`'foreach' must be a list or a map`);
  }
  if ('matrix' in def) {
    const matrix = def['matrix'];
    if (matrix === null || typeof matrix !== 'object' || Array.isArray(matrix)) fail(`'matrix' must be a map of lists`);
    for (const [k, v] of Object.entries(matrix as Record<string, unknown>)) {
      if (!Array.isArray(v) || v.length === 0) fail(`matrix key '${k}' must be a non-empty list`);
    }
    const { matrix: _, ...body } = def;
    return product(matrix as Record<string, unknown[]>).map((item) => [
      `${name}@${Object.values(item).map(nameSuffix).join('-')}`,
      body,
      { item },
    ]);
  }
  return [[name, def, {}]];
}

/** A `deps`/`outs`/`metrics` entry: `path` or `{ path: { cache: false, ... } }`. */
function entryPath(entry: unknown, field: string, fail: (msg: string) => never): string {
  if (typeof entry === 'string' && entry.trim() !== '') return entry;
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) {
    const keys = Object.keys(entry);
    if (keys.length === 1 && keys[0]!.trim() !== '') return keys[0]!;
  }
  return fail(`each '${field}' entry must be a path (or a map with one path key), got ${JSON.stringify(entry)}`);
}

/** Whether an `outs`/`metrics` entry says `cache: false`. */
function entryUncached(entry: unknown, field: string, fail: (msg: string) => never): boolean {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return false;
  const options = Object.values(entry)[0] as unknown;
  if (options === null || options === undefined) return false;
  const cache = (options as Record<string, unknown>)['cache'];
  if (cache !== undefined && typeof cache !== 'boolean') fail(`'${field}' option 'cache' must be true or false`);
  return cache === false;
}

function list(v: unknown, field: string, fail: (msg: string) => never): unknown[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) fail(`'${field}' must be a list`);
  return v as unknown[];
}

const STAGE_KEYS = new Set([
  'cmd',
  'wdir',
  'deps',
  'params',
  'outs',
  'metrics',
  'plots',
  'desc',
  'always_changed',
  'frozen',
  'meta',
  'vars',
]);

/**
 * Parses a pipeline file (`trestle.yaml`, or a `dvc.yaml` of the same shape): stages with
 * `cmd`, `wdir`, `deps`, `params`, `outs`, `metrics`, templated by `vars`, `params.yaml`,
 * `foreach`/`do` and `matrix`. Paths come back relative to the file's folder. Every problem
 * is an `INVALID_ARGUMENT` naming the file and line.
 *
 * @example loadPipeline('/repo/trestle.yaml').stages.map((s) => s.name) // ['prepare', 'train']
 */
export function loadPipeline(file: string): Pipeline {
  const abs = resolve(file);
  const root = dirname(abs);
  const shown = shownPath(abs);
  const { keyLines, value } = readYaml(abs, shown);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(shown, 1, `expected a map with 'stages'`);
  }
  const top = value as Record<string, unknown>;
  const stagesDef = top['stages'];
  if (stagesDef === null || typeof stagesDef !== 'object' || Array.isArray(stagesDef)) {
    throw invalid(shown, 1, `expected a 'stages' map (name: { cmd, deps, outs, ... })`);
  }
  const vars = Object.assign(
    {},
    ...list(top['vars'], 'vars', (m) => {
      throw invalid(shown, 1, m);
    }).map((v) => (typeof v === 'object' && v !== null ? v : {})),
  ) as Scope;
  let params: Scope = {};
  try {
    const p = readYaml(join(root, DEFAULT_PARAMS_FILE), DEFAULT_PARAMS_FILE).value;
    if (p !== null && typeof p === 'object') params = p as Scope;
  } catch (err) {
    if (!(err instanceof TrestleError && err.code === 'NOT_FOUND')) throw err;
  }

  const stages: Stage[] = [];
  const seen = new Set<string>();
  for (const [name, rawDef] of Object.entries(stagesDef as Record<string, unknown>)) {
    const line = keyLines['stages']?.[name] ?? 1;
    const fail = (msg: string): never => {
      throw invalid(shown, line, `stage '${name}': ${msg}`);
    };
    if (!/^[A-Za-z0-9_][\w.-]*$/.test(name)) fail(`stage names may use letters, digits, '_', '-' and '.'`);
    if (rawDef === null || typeof rawDef !== 'object' || Array.isArray(rawDef)) fail(`expected a map with 'cmd'`);
    for (const [stageName, body, item] of expand(name, rawDef as Record<string, unknown>, fail)) {
      const def = interpolate(body, { ...params, ...vars, ...item }, fail) as Record<string, unknown>;
      for (const k of Object.keys(def))
        if (!STAGE_KEYS.has(k)) fail(`unknown field '${k}' (expected cmd, deps, params, outs, metrics, wdir)`);
      let cmd = def['cmd'];
      if (Array.isArray(cmd)) cmd = cmd.map(String).join(' && ');
      if (typeof cmd !== 'string' || cmd.trim() === '') fail(`'cmd' is required (a command line, or a list of them)`);
      const wdirRaw = def['wdir'] ?? '.';
      if (typeof wdirRaw !== 'string') fail(`'wdir' must be a path`);
      const wdirAbs = resolve(root, wdirRaw as string);
      const toRoot = (p: string): string => {
        const a = resolve(wdirAbs, p);
        const rel = posix(relative(root, a));
        if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) fail(`path '${p}' is outside the workspace ${root}`);
        return rel;
      };
      const paramRefs: ParamsRef[] = [];
      const defaultKeys: string[] = [];
      for (const p of list(def['params'], 'params', fail)) {
        if (typeof p === 'string') defaultKeys.push(p);
        else if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
          for (const [f, keys] of Object.entries(p)) {
            paramRefs.push({
              file: toRoot(f),
              keys: keys === null || keys === undefined ? [] : list(keys, 'params', fail).map(String),
            });
          }
        } else fail(`'params' entries are keys of params.yaml or { FILE: [keys] }`);
      }
      if (defaultKeys.length > 0) paramRefs.unshift({ file: toRoot(DEFAULT_PARAMS_FILE), keys: defaultKeys });
      const entries = (field: 'outs' | 'metrics'): { path: string; uncached: boolean }[] =>
        list(def[field], field, fail).map((e) => ({
          path: toRoot(entryPath(e, field, fail)),
          uncached: entryUncached(e, field, fail),
        }));
      const metricEntries = entries('metrics');
      const outEntries = [...entries('outs'), ...metricEntries];
      const metrics = metricEntries.map((e) => e.path);
      const outs = outEntries.map((e) => e.path);
      const uncached = outEntries.filter((e) => e.uncached).map((e) => e.path);
      const alwaysChanged = def['always_changed'] ?? false;
      if (typeof alwaysChanged !== 'boolean') fail(`'always_changed' must be true or false`);
      const deps = list(def['deps'], 'deps', fail).map((e) => toRoot(entryPath(e, 'deps', fail)));
      if (seen.has(stageName)) fail(`the stage name '${stageName}' is defined twice`);
      seen.add(stageName);
      stages.push({
        name: stageName,
        cmd: cmd as string,
        wdir: posix(relative(root, wdirAbs)) || '.',
        deps,
        params: paramRefs,
        outs,
        uncached,
        alwaysChanged: alwaysChanged as boolean,
        metrics,
        line,
      });
    }
  }
  return { file: abs, root, stages };
}

/** Finds the pipeline file: `-f FILE` when given, else `trestle.yaml` or `dvc.yaml` in `root`. */
export function pipelineFile(root: string, given?: string): string {
  if (given !== undefined) return resolve(given);
  for (const name of PIPELINE_FILES) {
    const f = join(root, name);
    if (existsSync(f)) return f;
  }
  throw new TrestleError('NOT_FOUND', `no trestle.yaml (or dvc.yaml) in ${root}; write one, or pass -f FILE`);
}
