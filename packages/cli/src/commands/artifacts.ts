import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TrestleError, runArtifactKey, type ArtifactEntry, type ArtifactStore } from '@trestle/core';
import type { Command, CommandGroup } from '../framework/command.js';
import { table } from '../framework/output.js';
import { terminalProgress } from '../framework/progress.js';
import { resolveRunId, withTrestle } from '../session.js';

/** Every file under `dir` (depth first), paths as the store gives them. */
async function filesUnder(store: ArtifactStore, dir: string): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    for (const entry of await store.list(pending.shift())) {
      if (entry.isDir) pending.push(entry.path);
      else out.push(entry);
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

function cleanPath(path: string | undefined): string {
  const p = (path ?? '').replace(/^\/+|\/+$/g, '');
  if (p.split('/').some((part) => part === '..')) {
    throw new TrestleError('INVALID_ARGUMENT', `artifact path '${path}' must not contain '..'`);
  }
  return p;
}

/** The run's artifact root and the files under PATH (a file, a folder, or everything). */
async function runFiles(
  store: ArtifactStore,
  root: string,
  path: string,
): Promise<{ files: (ArtifactEntry & { relative: string })[]; isFile: boolean }> {
  const full = path === '' ? root : `${root}/${path}`;
  let files = await filesUnder(store, full);
  let isFile = false;
  if (files.length === 0 && path !== '') {
    try {
      const info = await store.stat(full);
      files = [{ path: full, isDir: false, size: info.size }];
      isFile = true;
    } catch {
      throw new TrestleError('NOT_FOUND', `the run has no artifact '${path}' (see 'trestle artifacts list RUN')`);
    }
  }
  const prefix = `${root}/`;
  return {
    files: files.map((f) => ({ ...f, relative: f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path })),
    isFile,
  };
}

const list: Command = {
  name: 'list',
  summary: "List a run's artifact files (all, or those under PATH)",
  usage: 'RUN_ID [PATH]',
  options: {},
  positionals: { min: 1, max: 2 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend, artifacts }) => {
      const run = await backend.getRun(await resolveRunId(backend, ctx.positionals[0]!));
      const { files } = await runFiles(artifacts, runArtifactKey(run.info), cleanPath(ctx.positionals[1]));
      const out = files.map((f) => ({ path: f.relative, size: f.size ?? 0 }));
      ctx.out.result({ runId: run.info.runId, artifacts: out }, () =>
        out.length === 0
          ? `Run ${run.info.runId} has no artifacts${ctx.positionals[1] === undefined ? '' : ` under '${ctx.positionals[1]}'`}.`
          : table(
              ['path', 'size'],
              out.map((f) => [f.path, f.size.toLocaleString('en-US')]),
            ),
      );
    }),
};

const download: Command = {
  name: 'download',
  summary: "Download a run's artifacts (a file, a folder, or all) into a folder",
  usage: 'RUN_ID [PATH]',
  description: 'Files keep their paths relative to the run (model/model.json → OUT/model/model.json).',
  options: {
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'where to write (default: the current folder)' },
  },
  positionals: { min: 1, max: 2 },
  run: (ctx) =>
    withTrestle(ctx, async ({ backend, artifacts }) => {
      const run = await backend.getRun(await resolveRunId(backend, ctx.positionals[0]!));
      const { files } = await runFiles(artifacts, runArtifactKey(run.info), cleanPath(ctx.positionals[1]));
      const outDir = resolve(typeof ctx.values['out'] === 'string' ? ctx.values['out'] : '.');
      const total = files.reduce((a, f) => a + (f.size ?? 0), 0);
      const task = terminalProgress(process.stderr, ctx.out.json).start('downloading', files.length, total);
      const written: { path: string; file: string; size: number }[] = [];
      try {
        for (const f of files) {
          const target = resolve(outDir, f.relative);
          if (!target.startsWith(outDir + sep)) {
            throw new TrestleError('INVALID_ARGUMENT', `artifact '${f.relative}' would be written outside ${outDir}`);
          }
          await mkdir(dirname(target), { recursive: true });
          // Written beside the target and renamed at the end: an interrupted download leaves no half file.
          const partial = `${target}.trestle-partial`;
          const count = new Transform({
            transform(chunk: Buffer, _enc, done) {
              task.tick(0, chunk.length);
              done(null, chunk);
            },
          });
          try {
            await pipeline(await artifacts.get(f.path), count, createWriteStream(partial));
            await rename(partial, target);
          } catch (err) {
            await rm(partial, { force: true });
            throw err;
          }
          task.tick(1);
          written.push({ path: f.relative, file: join(outDir, f.relative), size: f.size ?? 0 });
        }
      } finally {
        task.done();
      }
      ctx.out.result({ runId: run.info.runId, files: written, bytes: total }, () =>
        written.length === 0
          ? `Run ${run.info.runId} has no artifacts to download.`
          : `Downloaded ${written.length} file(s), ${total.toLocaleString('en-US')} bytes, to ${outDir}`,
      );
    }),
};

export const artifacts: CommandGroup = {
  name: 'artifacts',
  summary: 'List and download run artifacts',
  commands: [list, download],
};
