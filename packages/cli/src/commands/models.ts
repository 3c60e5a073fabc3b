import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Trestle } from '@trestle/client';
import {
  TrestleError,
  isTrestleError,
  type ChangeContext,
  type ModelVersion,
  type RegisteredModel,
  type RegistryEvent,
  type RegistryStore,
} from '@trestle/core';
import type { Command, CommandContext, CommandGroup, OptionSpec } from '../framework/command.js';
import { UsageError } from '../framework/command.js';
import { formatTime, table } from '../framework/output.js';
import { parseKeyValues, parsePositiveInt, resolveRunId, withTrestle, type StoreUse } from '../session.js';

/** What a model argument names: `NAME`, `NAME/VERSION`, `NAME/latest` or `NAME@ALIAS` (a `models:/` prefix is allowed). */
interface ModelRef {
  name: string;
  version?: number;
  alias?: string;
  latest?: true;
}

function parseRef(text: string): ModelRef {
  const bare = text.replace(/^models:\/+/, '');
  const bad = (why: string): never => {
    throw new UsageError(`'${text}' ${why}; write NAME, NAME/VERSION, NAME/latest or NAME@ALIAS`);
  };
  if (bare === '') return bad('names no model');
  const slash = /^(.+)\/([^/]+)$/.exec(bare);
  if (slash !== null) {
    const [, name, tail] = slash as unknown as [string, string, string];
    if (tail === 'latest') return { name, latest: true };
    if (/^\d{1,15}$/.test(tail) && Number(tail) >= 1) return { name, version: Number(tail) };
  }
  const at = bare.lastIndexOf('@');
  if (at === 0 || at === bare.length - 1) return bad('has an empty model name or alias');
  if (at > 0) return { name: bare.slice(0, at), alias: bare.slice(at + 1) };
  if (slash !== null) return bad(`has version '${slash[2]}', which is not a positive integer`);
  return { name: bare };
}

const refText = (ref: ModelRef): string =>
  ref.alias !== undefined
    ? `${ref.name}@${ref.alias}`
    : ref.version !== undefined
      ? `${ref.name}/${ref.version}`
      : ref.latest === true
        ? `${ref.name}/latest`
        : ref.name;

/** The version a reference names; a bare NAME is a usage error unless `what` allows it. */
async function resolveVersion(registry: RegistryStore, ref: ModelRef): Promise<ModelVersion> {
  if (ref.alias !== undefined) return registry.getModelVersionByAlias(ref.name, ref.alias);
  if (ref.version !== undefined) return registry.getModelVersion(ref.name, ref.version);
  if (ref.latest === true) {
    const newest = (await registry.getLatestVersions(ref.name)).sort((a, b) => b.version - a.version)[0];
    if (newest === undefined) {
      throw new TrestleError('NOT_FOUND', `registered model '${ref.name}' has no versions yet`, { name: ref.name });
    }
    return newest;
  }
  throw new UsageError(`'${ref.name}' names a model, not a version; write ${ref.name}/VERSION or ${ref.name}@ALIAS`);
}

function needAlias(text: string): ModelRef & { alias: string } {
  const ref = parseRef(text);
  if (ref.alias === undefined) throw new UsageError(`'${text}' names no alias; write NAME@ALIAS, e.g. fraud@champion`);
  return ref as ModelRef & { alias: string };
}

/** Every version of a model, newest first. */
async function allVersions(registry: RegistryStore, name: string): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  let pageToken: string | undefined;
  do {
    const page = await registry.searchModelVersions({
      filter: `name = '${name.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`,
      orderBy: ['version_number DESC'],
      maxResults: 1000,
      ...(pageToken === undefined ? {} : { pageToken }),
    });
    out.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
  // The filter is by name; keep only exact matches whatever the search's rules for special characters.
  return out.filter((v) => v.name === name);
}

/** Options every registry command takes besides the global ones. */
const REMOTE: Record<string, OptionSpec> = {
  'tracking-uri': {
    type: 'string',
    valueName: 'URL',
    description: 'a trestle server instead of the embedded store (env TRESTLE_TRACKING_URI)',
  },
};

const REASON: Record<string, OptionSpec> = {
  reason: { type: 'string', valueName: 'TEXT', description: 'why: recorded in the audit trail' },
};

/** Connects to `--tracking-uri` when given (else as configured) and runs `fn` with the client. */
function connect<T>(ctx: CommandContext, fn: (trestle: Trestle) => Promise<T>, use: StoreUse = {}): Promise<T> {
  const uri = ctx.values['tracking-uri'];
  if (typeof uri === 'string' && !/^https?:\/\/./.test(uri)) {
    throw new UsageError(`--tracking-uri expects an http(s):// URL, got '${uri}'`);
  }
  const config = typeof uri === 'string' ? Object.freeze({ ...ctx.config, trackingUri: uri }) : ctx.config;
  return withTrestle({ ...ctx, config }, fn, use);
}

/** Who and why, for the audit trail: the OS user (a server with --auth records the token's name instead). */
function change(ctx: CommandContext): ChangeContext {
  let actor: string | undefined;
  try {
    actor = userInfo().username;
  } catch {
    actor = undefined;
  }
  const reason = ctx.values['reason'];
  return {
    ...(actor === undefined || actor === '' ? {} : { actor }),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

const aliasList = (m: RegisteredModel): string =>
  [...m.aliases]
    .sort((a, b) => (a.alias < b.alias ? -1 : 1))
    .map((a) => `${a.alias}=${a.version}`)
    .join(' ');

function versionRows(versions: ModelVersion[]): string {
  return table(
    ['version', 'status', 'aliases', 'run', 'source', 'created'],
    versions.map((v) => [
      v.version,
      v.status,
      v.aliases.map((a) => `@${a}`).join(' '),
      v.runId?.slice(0, 8),
      v.source,
      formatTime(v.creationTime),
    ]),
  );
}

function versionDetails(v: ModelVersion): string {
  const lines: [string, string | undefined][] = [
    ['model', v.name],
    ['version', String(v.version)],
    ['status', v.statusMessage === undefined ? v.status : `${v.status} (${v.statusMessage})`],
    ['aliases', v.aliases.map((a) => `@${a}`).join(' ')],
    ['source', v.source],
    ['run', v.runId],
    ['stage', v.stage === 'None' ? undefined : v.stage],
    ['created', `${formatTime(v.creationTime)}${v.userId === '' ? '' : ` by ${v.userId}`}`],
    ['description', v.description],
    ['tags', v.tags.map((t) => `${t.key}=${t.value}`).join(' ')],
  ];
  return lines
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([k, value]) => `${k.padEnd(12)} ${value}`)
    .join('\n');
}

/** One line of what an event changed, e.g. `@champion 1 → 2`. */
function changeText(e: RegistryEvent): string {
  const arrow = (from: number | undefined, to: number | undefined): string =>
    `${from === undefined ? '-' : from} → ${to === undefined ? '-' : to}`;
  switch (e.type) {
    case 'alias.set':
    case 'alias.deleted':
      return `@${e.alias ?? '?'} ${arrow(e.oldVersion, e.newVersion)}`;
    case 'version.updated':
    case 'model.updated':
    case 'model.renamed': {
      const d = e.details ?? {};
      const text = (v: unknown): string =>
        v === undefined || v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
      if (typeof d['field'] === 'string') return `${d['field']}: ${text(d['old'])} → ${text(d['new'])}`;
      return Object.entries(d)
        .map(([k, v]) => `${k}=${text(v)}`)
        .join(' ');
    }
    default:
      return '';
  }
}

const list: Command = {
  name: 'list',
  summary: 'List registered models with their latest version and aliases',
  options: {
    ...REMOTE,
    filter: {
      type: 'string',
      valueName: 'FILTER',
      description: 'MLflow registry filter, e.g. "name LIKE \'fraud%\'" or "tags.team = \'risk\'"',
    },
    'max-results': { type: 'string', valueName: 'N', description: 'at most N models (default 100)' },
  },
  positionals: { max: 0 },
  run: (ctx) =>
    connect(ctx, async ({ registry }) => {
      const filter = ctx.values['filter'];
      const page = await registry.searchRegisteredModels({
        maxResults: parsePositiveInt(ctx.values['max-results'], 'max-results', 100),
        ...(typeof filter === 'string' ? { filter } : {}),
      });
      ctx.out.result({ models: page.items, nextPageToken: page.nextPageToken }, () =>
        page.items.length === 0
          ? "No registered models. Register one with 'trestle models register NAME runs:/RUN_ID/model' or 'trestle train … --register NAME'."
          : table(
              ['name', 'latest', 'aliases', 'updated', 'description'],
              page.items.map((m) => [
                m.name,
                m.latestVersion === 0 ? undefined : m.latestVersion,
                aliasList(m),
                formatTime(m.lastUpdatedTime),
                m.description,
              ]),
            ),
      );
    }),
};

const show: Command = {
  name: 'show',
  summary: 'Show a registered model and its versions, or one version',
  usage: 'NAME | NAME/VERSION | NAME/latest | NAME@ALIAS',
  options: { ...REMOTE },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    connect(ctx, async ({ registry }) => {
      const ref = parseRef(ctx.positionals[0]!);
      if (ref.version === undefined && ref.alias === undefined && ref.latest === undefined) {
        const model = await registry.getRegisteredModel(ref.name);
        const versions = await allVersions(registry, ref.name);
        ctx.out.result({ model, versions }, () =>
          [
            `model        ${model.name}`,
            ...(model.description === '' ? [] : [`description  ${model.description}`]),
            `created      ${formatTime(model.creationTime)}${model.userId === '' ? '' : ` by ${model.userId}`}`,
            ...(model.tags.length === 0
              ? []
              : [`tags         ${model.tags.map((t) => `${t.key}=${t.value}`).join(' ')}`]),
            ...(model.aliases.length === 0 ? [] : [`aliases      ${aliasList(model)}`]),
            '',
            versions.length === 0 ? 'No versions.' : versionRows(versions),
          ].join('\n'),
        );
        return;
      }
      const version = await resolveVersion(registry, ref);
      ctx.out.result({ version }, () => versionDetails(version));
    }),
};

/** A `runs:/` URI with its run id resolved from a prefix, or a model folder as a `file:` URI. */
async function registrationSource(
  trestle: Trestle,
  source: string,
): Promise<{ source: string; runId?: string; local: boolean }> {
  const run = /^runs:\/+([^/]+)(\/.*)?$/.exec(source);
  if (run !== null) {
    const runId = await resolveRunId(trestle.backend, run[1]!);
    const path = (run[2] ?? '').replace(/^\/+/, '');
    return { source: `runs:/${runId}/${path}`, runId, local: false };
  }
  if (/^models:\/+m-[0-9a-f]{32}$/i.test(source)) return { source, local: false };
  if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !source.startsWith('file:')) {
    throw new UsageError(
      `cannot register '${source}': give runs:/RUN_ID/PATH, models:/m-<logged model id> or a model package folder`,
    );
  }
  let path: string;
  try {
    path = source.startsWith('file:') ? fileURLToPath(source) : resolve(source);
  } catch {
    throw new UsageError(`'${source}' is not a file URL of this machine; give the folder's path`);
  }
  if (!existsSync(path)) throw new TrestleError('NOT_FOUND', `no model package at '${source}' (no such folder)`);
  // Refuse what would not load now rather than a version nobody can serve later.
  const { loadModel } = await import('@trestle/models');
  const model = await loadModel(path);
  await model.close();
  return { source: pathToFileURL(path).href, local: true };
}

/**
 * `--onnx FILE --signature SPEC`: the package around an ONNX file made elsewhere, checked, then
 * logged as the artifact `model` of a run of its own (the version's source and lineage).
 */
async function onnxSource(
  ctx: CommandContext,
  trestle: Trestle,
  name: string,
  file: string,
): Promise<{ source: string; runId: string; end: (ok: boolean) => Promise<void> }> {
  const spec = ctx.values['signature'];
  if (typeof spec !== 'string')
    throw new UsageError("--onnx needs --signature: the inputs as 'name:type,…' or a JSON file (MLflow's signature)");
  const { onnxFilePackage, parseSignatureText } = await import('@trestle/models');
  const path = resolve(file);
  let text = spec;
  if (!/^\s*[[{]/.test(spec) && existsSync(spec)) text = readFileSync(spec, 'utf8');
  const signature = parseSignatureText(text, `--signature ${spec}`);
  const tmp = await mkdtemp(join(tmpdir(), 'trestle-onnx-'));
  try {
    const dir = join(tmp, 'model');
    await onnxFilePackage(path, signature, dir);
    const experiment = ctx.values['experiment'];
    const run = await trestle.startRun({
      ...(typeof experiment === 'string' ? { experiment } : {}),
      name: `register ${name} from ${basename(path)}`,
      tags: { 'trestle.onnx.file': path },
    });
    try {
      await run.logArtifact(dir, 'model');
    } catch (err) {
      await run.end('FAILED');
      throw err;
    }
    return {
      source: `runs:/${run.id}/model`,
      runId: run.id,
      end: async (ok) => void (await run.end(ok ? 'FINISHED' : 'FAILED')),
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const register: Command = {
  name: 'register',
  summary: 'Register a model package (or an ONNX file with a signature) as the next version of a model',
  usage: 'NAME SOURCE | NAME --onnx FILE --signature SPEC',
  description: [
    'SOURCE: runs:/RUN_ID/PATH (a package logged to a run; the run id may be a unique prefix),',
    'models:/m-<id> (an MLflow 3 logged model) or a model package folder on this machine.',
    '--onnx FILE --signature SPEC: an ONNX file made elsewhere (a converted scikit-learn or PyTorch',
    "model) with its inputs given as 'name:type,…' (e.g. 'distance:double,origin:string') or a JSON",
    'file (MLflow\'s {"inputs": [...], "outputs": [...]}); a graph with one input not named after a',
    'column takes the numeric columns as one [N, columns] matrix. It is checked (it loads, one row',
    'predicts), made a package (manifest + MLmodel) and logged to a run of its own, then registered.',
    'The version, its tags and aliases are written at once or not at all.',
  ].join('\n'),
  options: {
    ...REMOTE,
    ...REASON,
    onnx: { type: 'string', valueName: 'FILE', description: 'register this ONNX file (with --signature)' },
    signature: {
      type: 'string',
      valueName: 'SPEC',
      description: "with --onnx: the inputs, 'name:type,…' or a JSON file",
    },
    experiment: {
      type: 'string',
      valueName: 'NAME',
      description: "with --onnx: the run's experiment (default: Default)",
    },
    alias: { type: 'string', multiple: true, valueName: 'ALIAS', description: 'point this alias at the new version' },
    description: { type: 'string', valueName: 'TEXT', description: 'description of the version' },
    tag: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'tag the version' },
  },
  positionals: { min: 1, max: 2 },
  run: (ctx) =>
    connect(
      ctx,
      async (trestle) => {
        const [name, given] = ctx.positionals as [string, string | undefined];
        if (parseRef(name).name !== name || name.includes('@')) {
          throw new UsageError(`'${name}' is not a model name (no '@' or '/VERSION' here)`);
        }
        const onnx = ctx.values['onnx'];
        if (typeof onnx === 'string' && given !== undefined)
          throw new UsageError('give SOURCE or --onnx FILE, not both');
        if (typeof onnx !== 'string' && given === undefined)
          throw new UsageError('give the SOURCE to register (runs:/RUN_ID/PATH, a package folder) or --onnx FILE');
        if (typeof onnx !== 'string' && ctx.values['signature'] !== undefined)
          throw new UsageError('--signature goes with --onnx FILE (a package carries its own signature)');
        const aliases = (ctx.values['alias'] as string[] | undefined) ?? [];
        const description = ctx.values['description'];
        const fromOnnx = typeof onnx === 'string' ? await onnxSource(ctx, trestle, name, onnx) : undefined;
        const { source, runId, local } =
          fromOnnx === undefined ? await registrationSource(trestle, given!) : { ...fromOnnx, local: false };
        if (local && trestle.config.trackingUri !== undefined) {
          ctx.out.info(
            `Note: ${source} is a folder on this machine; only clients that can read it can load this version.`,
          );
        }
        let version: ModelVersion;
        try {
          version = await trestle.registry.createModelVersion(
            {
              name,
              source,
              createModel: true,
              aliases,
              tags: parseKeyValues(ctx.values['tag'] as string[] | undefined, 'tag'),
              ...(runId === undefined ? {} : { runId }),
              ...(typeof description === 'string' ? { description } : {}),
            },
            change(ctx),
          );
        } catch (err) {
          await fromOnnx?.end(false);
          throw err;
        }
        await fromOnnx?.end(true);
        ctx.out.result(
          { version },
          () =>
            `Registered ${name} version ${version.version} from ${source}${aliases.length === 0 ? '' : ` (${aliases.map((a) => `@${a}`).join(', ')})`}.`,
        );
      },
      { create: true },
    ),
};

const alias: Command = {
  name: 'alias',
  summary: 'Point an alias at a version (set or move it), or delete it',
  usage: 'NAME@ALIAS [VERSION]',
  description: [
    'trestle models alias fraud@champion 3     points champion at version 3 (recorded with --reason)',
    'trestle models alias fraud@champion --delete',
    "Only READY versions take an alias. 'trestle models rollback fraud@champion' undoes the last move.",
  ].join('\n'),
  options: {
    ...REMOTE,
    ...REASON,
    delete: { type: 'boolean', description: 'delete the alias instead of setting it' },
  },
  positionals: { min: 1, max: 2 },
  run: async (ctx) => {
    const ref = needAlias(ctx.positionals[0]!);
    const del = ctx.values['delete'] === true;
    const given = ctx.positionals[1];
    if (del && given !== undefined) throw new UsageError('give VERSION or --delete, not both');
    if (!del && given === undefined) throw new UsageError('give the VERSION to point the alias at (or --delete)');
    const version = given === undefined ? undefined : Number(given);
    if (version !== undefined && !(Number.isSafeInteger(version) && version >= 1)) {
      throw new UsageError(`VERSION must be a positive integer such as 3, got '${given}'`);
    }
    await connect(
      ctx,
      async ({ registry }) => {
        let previous: number | undefined;
        try {
          previous = (await registry.getModelVersionByAlias(ref.name, ref.alias)).version;
        } catch (err) {
          if (!isTrestleError(err, 'NOT_FOUND')) throw err;
        }
        if (version === undefined) {
          await registry.deleteAlias(ref.name, ref.alias, change(ctx));
          ctx.out.result(
            { name: ref.name, alias: ref.alias, deleted: true, previousVersion: previous ?? null },
            () => `Deleted @${ref.alias} of ${ref.name} (it pointed at version ${previous ?? '?'}).`,
          );
          return;
        }
        await registry.setAlias(ref.name, ref.alias, version, change(ctx));
        ctx.out.result({ name: ref.name, alias: ref.alias, version, previousVersion: previous ?? null }, () =>
          previous === undefined
            ? `${ref.name}@${ref.alias} now points at version ${version}.`
            : previous === version
              ? `${ref.name}@${ref.alias} already pointed at version ${version}.`
              : `${ref.name}@${ref.alias} moved from version ${previous} to ${version}. Undo with 'trestle models rollback ${ref.name}@${ref.alias}'.`,
        );
      },
      { create: false },
    );
  },
};

const history: Command = {
  name: 'history',
  summary: 'Show the audit trail of a model: alias moves and version changes, newest first',
  usage: 'NAME | NAME@ALIAS',
  options: {
    ...REMOTE,
    type: {
      type: 'string',
      multiple: true,
      valueName: 'TYPE',
      description: 'only this event type, e.g. alias.set, version.created',
    },
    limit: { type: 'string', valueName: 'N', description: 'at most N events (default 100)' },
  },
  positionals: { min: 1, max: 1 },
  run: (ctx) =>
    connect(ctx, async ({ registry }) => {
      const ref = parseRef(ctx.positionals[0]!);
      if (ref.version !== undefined || ref.latest === true) {
        throw new UsageError(`history is per model or alias: write ${ref.name} or ${ref.name}@ALIAS`);
      }
      const limit = parsePositiveInt(ctx.values['limit'], 'limit', 100);
      const types = ctx.values['type'] as string[] | undefined;
      const wanted = ref.alias === undefined ? types : ['alias.set', 'alias.deleted'];
      let events = await registry.listEvents({
        model: ref.name,
        order: 'desc',
        limit: ref.alias === undefined ? limit : 10_000,
        ...(wanted === undefined ? {} : { types: wanted }),
      });
      if (ref.alias !== undefined) events = events.filter((e) => e.alias === ref.alias).slice(0, limit);
      // No trail at all: say whether the model exists (a deleted model keeps its trail).
      if (events.length === 0) await registry.getRegisteredModel(ref.name);
      ctx.out.result({ name: ref.name, ...(ref.alias === undefined ? {} : { alias: ref.alias }), events }, () =>
        events.length === 0
          ? `No recorded changes for ${refText(ref)}.`
          : table(
              ['id', 'time', 'actor', 'event', 'version', 'change', 'reason'],
              events.map((e) => [
                e.id,
                formatTime(e.time),
                e.actor,
                e.type,
                e.version ?? e.newVersion,
                changeText(e),
                e.reason,
              ]),
            ),
      );
    }),
};

const rollback: Command = {
  name: 'rollback',
  summary: 'Move an alias back to the version it pointed at before its last move',
  usage: 'NAME@ALIAS',
  options: { ...REMOTE, ...REASON },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const ref = needAlias(ctx.positionals[0]!);
    await connect(ctx, async ({ registry }) => {
      const before = await registry.getModelVersionByAlias(ref.name, ref.alias);
      const now = await registry.rollbackAlias(ref.name, ref.alias, change(ctx));
      ctx.out.result(
        { name: ref.name, alias: ref.alias, version: now.version, previousVersion: before.version },
        () => `${ref.name}@${ref.alias} rolled back from version ${before.version} to ${now.version}.`,
      );
    });
  },
};

const lineage: Command = {
  name: 'lineage',
  summary: 'Trace a version to its run and datasets, or a dataset to the runs and versions made from it',
  usage: 'NAME/VERSION | NAME@ALIAS | --dataset DIGEST',
  options: {
    ...REMOTE,
    dataset: { type: 'string', valueName: 'DIGEST', description: 'start from a dataset digest instead of a version' },
  },
  positionals: { max: 1 },
  run: (ctx) =>
    connect(ctx, async ({ registry }) => {
      const digest = ctx.values['dataset'];
      const given = ctx.positionals[0];
      if ((typeof digest === 'string') === (given !== undefined)) {
        throw new UsageError('give a version (NAME/VERSION or NAME@ALIAS) or --dataset DIGEST');
      }
      if (typeof digest === 'string') {
        const found = await registry.getDatasetLineage(digest);
        ctx.out.result({ dataset: found }, () =>
          [
            `dataset  ${found.digest}`,
            '',
            found.runs.length === 0
              ? 'No runs read this dataset.'
              : table(
                  ['run', 'name', 'experiment', 'dataset', 'context'],
                  found.runs.map((r) => [r.runId, r.runName, r.experimentId, r.datasetName, r.context]),
                ),
            '',
            found.versions.length === 0
              ? 'No registered versions come from those runs.'
              : table(
                  ['model', 'version', 'aliases', 'run'],
                  found.versions.map((v) => [v.name, v.version, v.aliases.map((a) => `@${a}`).join(' '), v.runId]),
                ),
          ].join('\n'),
        );
        return;
      }
      const version = await resolveVersion(registry, parseRef(given!));
      const found = await registry.getVersionLineage(version.name, version.version);
      ctx.out.result({ lineage: found }, () => {
        const run = found.run;
        return [
          `version  ${found.version.name}/${found.version.version}${found.version.aliases.length === 0 ? '' : ` (${found.version.aliases.map((a) => `@${a}`).join(' ')})`}  ${found.version.source}`,
          run === undefined
            ? 'run      - (registered without a run)'
            : `run      ${run.runId} '${run.runName}' (experiment ${run.experimentId}, ${run.status})`,
          '',
          run === undefined || run.datasets.length === 0
            ? 'No datasets recorded.'
            : table(
                ['dataset', 'digest', 'context', 'source'],
                run.datasets.map((d) => [d.name, d.digest, d.context, d.source]),
              ),
        ].join('\n');
      });
    }),
};

const remove: Command = {
  name: 'delete',
  summary: 'Delete a model version, an alias, or a whole model (--yes)',
  usage: 'NAME/VERSION | NAME@ALIAS | NAME --yes',
  description: [
    'A version takes its aliases with it. A whole model (all its versions and aliases) needs --yes.',
    'Deletions are recorded in the audit trail and cannot be undone.',
  ].join('\n'),
  options: {
    ...REMOTE,
    ...REASON,
    yes: { type: 'boolean', description: 'confirm deleting a whole model' },
  },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const ref = parseRef(ctx.positionals[0]!);
    if (ref.latest === true) throw new UsageError(`write the version number to delete, not ${ref.name}/latest`);
    await connect(ctx, async ({ registry }) => {
      if (ref.alias !== undefined) {
        await registry.deleteAlias(ref.name, ref.alias, change(ctx));
        ctx.out.result({ deleted: { name: ref.name, alias: ref.alias } }, () => `Deleted ${ref.name}@${ref.alias}.`);
      } else if (ref.version !== undefined) {
        await registry.deleteModelVersion(ref.name, ref.version, change(ctx));
        ctx.out.result(
          { deleted: { name: ref.name, version: ref.version } },
          () => `Deleted ${ref.name} version ${ref.version}.`,
        );
      } else {
        const model = await registry.getRegisteredModel(ref.name);
        if (ctx.values['yes'] !== true) {
          throw new UsageError(
            `deleting model '${ref.name}' removes its ${model.latestVersion === 0 ? 'aliases' : 'versions and aliases'} for good; add --yes`,
          );
        }
        await registry.deleteRegisteredModel(ref.name, change(ctx));
        ctx.out.result(
          { deleted: { name: ref.name } },
          () => `Deleted model ${ref.name} with its versions and aliases.`,
        );
      }
    });
  },
};

/** `trestle models …`: the model registry from the command line, embedded or over HTTP. */
export const models: CommandGroup = {
  name: 'models',
  summary: 'Registered models: list, show, register, alias, history, rollback, lineage, delete',
  commands: [list, show, register, alias, history, rollback, lineage, remove],
};
