import { pathToFileURL } from 'node:url';
import type { ArtifactStore, DataVersion } from '@trestle/core';
import {
  DataRepo,
  findWorkspace,
  pullObjects,
  pushObjects,
  readPointer,
  type DataPointer,
  type DataStatus,
} from '@trestle/pipelines';
import { UsageError, type Command, type CommandContext, type CommandGroup } from '../framework/command.js';
import { formatTime, table } from '../framework/output.js';
import { terminalProgress } from '../framework/progress.js';
import { parsePositiveInt } from '../session.js';

/** Formats bytes as `12.3 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Opens the data repository of the current workspace, runs `fn`, and stops its threads. */
export async function withDataRepo<T>(ctx: CommandContext, fn: (repo: DataRepo) => Promise<T>): Promise<T> {
  const ws = findWorkspace(process.cwd(), ctx.config.home);
  const repo = new DataRepo({ ...ws, progress: terminalProgress(process.stderr, ctx.out.json) });
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}

/** Opens the remote named by `--remote` or `TRESTLE_REMOTE`; a usage error when there is none. */
export async function openRemote(ctx: CommandContext, root: string): Promise<ArtifactStore> {
  const uri = typeof ctx.values['remote'] === 'string' ? ctx.values['remote'] : ctx.config.remote;
  if (uri === undefined) {
    throw new UsageError('no data remote: pass --remote URI (a folder or s3://bucket/prefix) or set TRESTLE_REMOTE');
  }
  const { openArtifactStore } = await import('@trestle/store');
  return openArtifactStore(uri, {
    cwd: root,
    ...(ctx.config.s3Endpoint === undefined ? {} : { s3Endpoint: ctx.config.s3Endpoint }),
  });
}

const REMOTE_OPTION = {
  type: 'string',
  valueName: 'URI',
  description: 'data remote: folder or s3://bucket/prefix (env TRESTLE_REMOTE)',
} as const;
const JOBS_OPTION = {
  type: 'string',
  short: 'j',
  valueName: 'N',
  description: 'transfers at a time (default 16)',
} as const;

async function recordVersions(
  ctx: CommandContext,
  repo: DataRepo,
  added: { target: string; sha256: string; kind: 'file' | 'dir'; size: number; files: number }[],
): Promise<DataVersion[]> {
  const { tabularSchema } = await import('@trestle/pipelines/tabular');
  const { openMetadataStore } = await import('@trestle/store');
  const store = await openMetadataStore(ctx.config.db, { cwd: repo.root, artifactRoot: ctx.config.artifacts });
  try {
    const out: DataVersion[] = [];
    for (const a of added) {
      const abs = `${repo.root}/${a.target}`;
      const schema = a.kind === 'file' ? await tabularSchema(abs) : undefined;
      out.push(
        await store.dataVersions.recordVersion({
          name: a.target,
          digest: a.sha256,
          source: pathToFileURL(abs).href,
          kind: a.kind,
          size: a.size,
          files: a.files,
          ...(schema === undefined ? {} : { schema: JSON.stringify(schema) }),
        }),
      );
    }
    return out;
  } finally {
    await store.close();
  }
}

const add: Command = {
  name: 'add',
  summary: 'Track files and folders: hash, cache, write PATH.trestle, ignore the data in git',
  usage: 'PATH [PATH...]',
  description: [
    'Hashes every file (SHA-256, on all cores; unchanged files are not read again), stores the',
    'content in the cache (.trestle/cache, reflinked where the file system can, else copied),',
    'writes a small pointer file PATH.trestle to commit to git, adds PATH to .gitignore, and',
    'records the version (with the schema of CSV and Parquet files) in the metadata store.',
  ].join('\n'),
  options: {},
  positionals: { min: 1 },
  run: (ctx) =>
    withDataRepo(ctx, async (repo) => {
      const added = await repo.add(ctx.positionals);
      const versions = await recordVersions(ctx, repo, added);
      ctx.out.result({ added, versions }, () =>
        [
          table(
            ['path', 'kind', 'files', 'size', 'sha256', 'new objects'],
            added.map((a) => [a.target, a.kind, a.files, formatBytes(a.size), `${a.sha256.slice(0, 12)}…`, a.stored]),
          ),
          '',
          `To track the versions in git: git add ${added.map((a) => a.pointer).join(' ')} .gitignore`,
        ].join('\n'),
      );
    }),
};

function statusLines(report: DataStatus[]): string {
  if (report.length === 0) return "No tracked data here. Track some with 'trestle data add PATH'.";
  const lines: string[] = [];
  for (const s of report) {
    const cache = s.cached ? '' : ' (not in the cache: trestle data pull)';
    lines.push(`${s.target}${s.kind === 'dir' ? '/' : ''}: ${s.state}${cache}`);
    for (const c of s.changes.slice(0, 50)) lines.push(`    ${`${c.change}:`.padEnd(10)}${c.path}`);
    if (s.changes.length > 50) lines.push(`    … and ${s.changes.length - 50} more (--json lists all)`);
    if (s.note !== undefined) lines.push(`    ${s.note}`);
  }
  const changed = report.filter((s) => s.state !== 'unchanged').length;
  lines.push(
    '',
    changed === 0
      ? 'Everything matches its pointer file.'
      : `${changed} of ${report.length} changed: 'trestle data add' records the new version, 'trestle data checkout' restores the tracked one.`,
  );
  return lines.join('\n');
}

const status: Command = {
  name: 'status',
  summary: 'Show which tracked data changed or is missing, file by file',
  usage: '[PATH...]',
  options: {},
  run: (ctx) =>
    withDataRepo(ctx, async (repo) => {
      const report = await repo.status(repo.pointersFor(ctx.positionals));
      ctx.out.result({ data: report }, () => statusLines(report));
    }),
};

const checkout: Command = {
  name: 'checkout',
  summary: 'Restore the versions the pointer files name, from the cache',
  usage: '[PATH...]',
  description:
    'Without PATH, every pointer file under the workspace. Refuses to overwrite content that is not cached, unless --force.',
  options: { force: { type: 'boolean', short: 'f', description: 'overwrite even changes that are not in the cache' } },
  run: (ctx) =>
    withDataRepo(ctx, async (repo) => {
      const results = await repo.checkout(repo.pointersFor(ctx.positionals), { force: ctx.values['force'] === true });
      ctx.out.result({ checkedOut: results }, () =>
        results.length === 0
          ? 'No tracked data here.'
          : table(
              ['path', 'restored', 'removed'],
              results.map((r) => [r.target, r.restored, r.removed]),
            ),
      );
    }),
};

async function pointersOf(repo: DataRepo, paths: string[]): Promise<(DataPointer & { file: string })[]> {
  const files = repo.pointersFor(paths);
  return Promise.all(files.map(async (file) => ({ ...(await readPointer(file)), file })));
}

const push: Command = {
  name: 'push',
  summary: 'Upload tracked data to the remote (only objects it lacks, in parallel, with retries)',
  usage: '[PATH...]',
  options: { remote: REMOTE_OPTION, jobs: JOBS_OPTION },
  run: (ctx) =>
    withDataRepo(ctx, async (repo) => {
      const jobs = parsePositiveInt(ctx.values['jobs'], 'jobs', 16);
      const remote = await openRemote(ctx, repo.root);
      try {
        const pointers = await pointersOf(repo, ctx.positionals);
        const { objects } = await repo.objectsOf(pointers);
        const result = await pushObjects(repo.cache, remote, objects, { jobs, progress: repo.progress });
        ctx.out.result(
          { remote: remote.rootUri, ...result },
          () =>
            `Pushed ${result.transferred} object(s) (${formatBytes(result.bytes)}) to ${remote.rootUri}; ${result.skipped} already there.`,
        );
      } finally {
        await remote.close();
      }
    }),
};

const pull: Command = {
  name: 'pull',
  summary: 'Download tracked data from the remote (only what the cache lacks) and check it out',
  usage: '[PATH...]',
  options: {
    remote: REMOTE_OPTION,
    jobs: JOBS_OPTION,
    force: { type: 'boolean', short: 'f', description: 'overwrite even changes that are not in the cache' },
  },
  run: (ctx) =>
    withDataRepo(ctx, async (repo) => {
      const jobs = parsePositiveInt(ctx.values['jobs'], 'jobs', 16);
      const remote = await openRemote(ctx, repo.root);
      try {
        const pointers = await pointersOf(repo, ctx.positionals);
        // Folder manifests first: they say which file objects the folders need.
        const manifests = await pullObjects(
          repo.cache,
          remote,
          pointers.map((p) => p.sha256),
          { jobs, progress: repo.progress },
        );
        const { objects } = await repo.objectsOf(pointers);
        const files = await pullObjects(repo.cache, remote, objects, { jobs, progress: repo.progress });
        const checkedOut = await repo.checkout(
          pointers.map((p) => p.file),
          { force: ctx.values['force'] === true },
        );
        const transferred = manifests.transferred + files.transferred;
        const bytes = manifests.bytes + files.bytes;
        ctx.out.result(
          { remote: remote.rootUri, transferred, bytes, checkedOut },
          () =>
            `Pulled ${transferred} object(s) (${formatBytes(bytes)}) from ${remote.rootUri}; restored ${checkedOut.reduce((s, c) => s + c.restored, 0)} file(s).`,
        );
      } finally {
        await remote.close();
      }
    }),
};

const gc: Command = {
  name: 'gc',
  summary: 'Remove cached objects that no pointer file or trestle.lock references',
  options: { 'dry-run': { type: 'boolean', short: 'n', description: 'only list what would be removed' } },
  positionals: { max: 0 },
  run: (ctx) =>
    withDataRepo(ctx, async (repo) => {
      const { lockedVersions } = await import('@trestle/pipelines/pipeline');
      const result = await repo.gc({ dryRun: ctx.values['dry-run'] === true, keep: await lockedVersions(repo.root) });
      ctx.out.result(
        result,
        () =>
          `${result.dryRun ? 'Would remove' : 'Removed'} ${result.removed.length} object(s) (${formatBytes(result.bytes)}); kept ${result.kept}.`,
      );
    }),
};

const versions: Command = {
  name: 'versions',
  summary: 'List the dataset versions recorded in the metadata store',
  usage: '[NAME]',
  options: {},
  positionals: { max: 1 },
  run: async (ctx) => {
    const ws = findWorkspace(process.cwd(), ctx.config.home);
    const { openMetadataStore } = await import('@trestle/store');
    const store = await openMetadataStore(ctx.config.db, {
      cwd: ws.root,
      artifactRoot: ctx.config.artifacts,
      create: false,
    });
    try {
      const name = ctx.positionals[0];
      const page = await store.dataVersions.listVersions({ maxResults: 1000, ...(name === undefined ? {} : { name }) });
      ctx.out.result({ versions: page.items }, () =>
        page.items.length === 0
          ? "No dataset versions recorded. 'trestle data add PATH' records one."
          : table(
              ['name', 'sha256', 'kind', 'files', 'size', 'schema', 'added'],
              page.items.map((v) => [
                v.name,
                `${v.digest.slice(0, 12)}…`,
                v.kind,
                v.files,
                formatBytes(v.size),
                v.schema === undefined
                  ? ''
                  : `${(JSON.parse(v.schema) as { columns: unknown[] }).columns.length} columns`,
                formatTime(v.createdTime),
              ]),
            ),
      );
    } finally {
      await store.close();
    }
  },
};

/** `trestle data add|status|checkout|push|pull|gc|versions`: data versioning. */
export const data: CommandGroup = {
  name: 'data',
  summary: 'Version data: add, status, checkout, push, pull, gc',
  commands: [add, status, checkout, push, pull, gc, versions],
};
