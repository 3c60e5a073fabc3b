import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ArtifactStore } from '@trestle/core';
import type { QueueExecutor } from '@trestle/pipelines/pipeline';
import { UsageError, type Command, type CommandGroup } from '../framework/command.js';
import { formatDuration, table } from '../framework/output.js';
import { terminalProgress } from '../framework/progress.js';
import { parsePositiveInt } from '../session.js';
import { openRemote } from './data.js';
import { workspaceConfig, type RunTracker } from './pipeline-tracker.js';

const FILE_OPTION = {
  type: 'string',
  short: 'f',
  valueName: 'FILE',
  description: 'pipeline file (default trestle.yaml, else dvc.yaml, in the workspace)',
} as const;

/** Loads and validates the pipeline of the current workspace (or `-f FILE`). */
async function loadGraph(file: string | undefined, home: string) {
  const { findWorkspace } = await import('@trestle/pipelines');
  const { buildGraph, loadPipeline, pipelineFile } = await import('@trestle/pipelines/pipeline');
  const ws = findWorkspace(file === undefined ? process.cwd() : dirname(file), home);
  const graph = buildGraph(loadPipeline(pipelineFile(ws.root, file)));
  return { ws: { root: graph.pipeline.root, home: findWorkspace(graph.pipeline.root, home).home }, graph };
}

const MARK: Record<string, string> = {
  ran: 'ran',
  unchanged: 'skipped',
  restored: 'restored',
  failed: 'FAILED',
  blocked: 'not run',
  'would-run': 'would run',
};

/** `trestle run [STAGE...]`: runs the pipeline. */
export const run: Command = {
  name: 'run',
  summary: 'Run the pipeline (trestle.yaml or dvc.yaml): changed stages only, in parallel, cached',
  usage: '[STAGE...]',
  description: [
    'Runs the stages in dependency order, independent ones in parallel (--jobs). A stage whose',
    'command, dependencies and parameters are unchanged is skipped; one seen before is restored',
    'from the cache without running. A failing stage stops its dependents; run again to resume.',
    'Each run is tracked: one run for the pipeline, a child run per stage (params, metrics files,',
    'dependencies with their digests, outputs as artifacts).',
  ].join('\n'),
  options: {
    file: FILE_OPTION,
    jobs: {
      type: 'string',
      short: 'j',
      valueName: 'N',
      description: 'stages at a time (default: the number of cores)',
    },
    force: { type: 'boolean', description: 'run every selected stage, even unchanged ones' },
    'dry-run': { type: 'boolean', short: 'n', description: 'only say what would run' },
    experiment: {
      type: 'string',
      valueName: 'NAME',
      description: 'experiment of the pipeline runs (default pipelines)',
    },
    'no-track': { type: 'boolean', description: 'do not record the run in the tracking store' },
    quiet: { type: 'boolean', short: 'q', description: "do not echo the stages' output" },
    local: { type: 'boolean', description: 'run stages here even when TRESTLE_QUEUE is set' },
    'no-deps': { type: 'boolean', description: 'run only the named stages, not the stages they depend on' },
    remote: { type: 'string', valueName: 'URI', description: 'data remote for queued stages (env TRESTLE_REMOTE)' },
  },
  run: async (ctx) => {
    const { ws, graph } = await loadGraph(ctx.values['file'] as string | undefined, ctx.config.home);
    const jobs = parsePositiveInt(ctx.values['jobs'], 'jobs', availableParallelism());
    const dryRun = ctx.values['dry-run'] === true;
    const { DataRepo } = await import('@trestle/pipelines');
    const { runPipeline, failureMessage } = await import('@trestle/pipelines/pipeline');
    const repo = new DataRepo({ ...ws, progress: terminalProgress(process.stderr, ctx.out.json) });
    const track = !dryRun && ctx.values['no-track'] !== true;
    const config = workspaceConfig(ctx.config, ws.root);
    let tracker: RunTracker | undefined;
    let executor: QueueExecutor | undefined;
    let remote: ArtifactStore | undefined;
    try {
      if (ctx.config.queue !== undefined && ctx.values['local'] !== true && !dryRun) {
        const { QueueExecutor } = await import('@trestle/pipelines/pipeline');
        remote = await openRemote(ctx, ws.root);
        executor = await QueueExecutor.open(repo, remote, ctx.config.queue);
        ctx.out.info(`Stages go to the queue at ${ctx.config.queue}; start 'trestle worker' where they should run.`);
      }
      if (track) {
        const { RunTracker } = await import('./pipeline-tracker.js');
        tracker = new RunTracker(
          async () => (await import('@trestle/client')).Trestle.connect({ config }),
          config,
          ws.root,
          (ctx.values['experiment'] as string | undefined) ?? 'pipelines',
        );
      }
      const quiet = ctx.values['quiet'] === true || ctx.out.json;
      const summary = await runPipeline({
        graph,
        repo,
        targets: ctx.positionals,
        noDeps: ctx.values['no-deps'] === true,
        jobs,
        force: ctx.values['force'] === true,
        dryRun,
        ...(tracker === undefined ? {} : { tracker }),
        ...(executor === undefined ? {} : { executor }),
        onWaitForLock: (pid) =>
          ctx.out.info(`Waiting for another 'trestle run' in this workspace (pid ${pid}) to finish…`),
        onEvent: (e) => {
          if (e.type === 'start') ctx.out.info(`▶ ${e.stage}`);
          else if (e.result !== undefined && !dryRun) {
            const r = e.result;
            ctx.out.info(
              `${r.state === 'failed' ? '✗' : '✓'} ${e.stage}: ${MARK[r.state]} (${r.reason}${r.state === 'ran' ? `, ${formatDuration(r.durationMs)}` : ''})`,
            );
            if (r.state === 'failed' && (r.tail?.length ?? 0) > 0) {
              ctx.out.info(`  last lines of ${r.log ?? 'its output'}:\n${r.tail!.map((l) => `  | ${l}`).join('\n')}`);
            }
          }
        },
        onLine: (stage, line) => {
          if (!quiet) process.stderr.write(`  [${stage}] ${line}\n`);
        },
      });
      const counts = (s: string): number => summary.results.filter((r) => r.state === s).length;
      ctx.out.result({ ...summary, runId: tracker?.runId }, () =>
        [
          table(
            ['stage', 'result', 'why', 'time'],
            summary.results.map((r) => [
              r.stage,
              MARK[r.state],
              r.reason,
              r.state === 'ran' ? formatDuration(r.durationMs) : '',
            ]),
          ),
          '',
          dryRun
            ? `${counts('would-run')} stage(s) would run, ${counts('unchanged')} unchanged, ${counts('restored')} would be restored from the cache.`
            : `${counts('ran')} ran, ${counts('unchanged')} skipped (unchanged), ${counts('restored')} restored from the cache${counts('failed') > 0 ? `, ${counts('failed')} failed, ${counts('blocked')} not run` : ''} in ${formatDuration(summary.durationMs)}.${tracker?.runId === undefined ? '' : ` Run ${tracker.runId}.`}`,
        ].join('\n'),
      );
      const failure = failureMessage(summary);
      if (failure !== undefined) {
        const { TrestleError } = await import('@trestle/core');
        throw new TrestleError(
          'FAILED_PRECONDITION',
          `${failure} (retry: trestle run ${summary.results.find((r) => r.state === 'failed')!.stage})`,
        );
      }
    } finally {
      await executor?.close();
      await remote?.close();
      await repo.close();
      await tracker?.close();
    }
  },
};

/** `trestle worker`: runs queued stages. */
export const worker: Command = {
  name: 'worker',
  summary: 'Take pipeline stages from the queue (TRESTLE_QUEUE) and run them here',
  description: [
    'Run it in a checkout of the project on any machine that reaches the queue (TRESTLE_QUEUE=redis://…)',
    'and the data remote (--remote or TRESTLE_REMOTE): each stage pulls its inputs from the remote,',
    'runs, and pushes its outputs back. Stops on Ctrl-C or SIGTERM after the stages it is running.',
  ].join('\n'),
  options: {
    jobs: { type: 'string', short: 'j', valueName: 'N', description: 'stages at a time (default 1)' },
    remote: {
      type: 'string',
      valueName: 'URI',
      description: 'data remote: folder or s3://bucket/prefix (env TRESTLE_REMOTE)',
    },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const queue = ctx.config.queue;
    if (queue === undefined) throw new UsageError('no queue: set TRESTLE_QUEUE=redis://host:6379');
    const { DataRepo, findWorkspace } = await import('@trestle/pipelines');
    const { startWorker } = await import('@trestle/pipelines/pipeline');
    const ws = findWorkspace(process.cwd(), ctx.config.home);
    const repo = new DataRepo(ws);
    const remote = await openRemote(ctx, ws.root);
    const lockMs = Number(process.env['TRESTLE_WORKER_LOCK_MS'] ?? 30_000);
    const w = await startWorker({
      repo,
      remote,
      queueUri: queue,
      concurrency: parsePositiveInt(ctx.values['jobs'], 'jobs', 1),
      lockDurationMs: Number.isFinite(lockMs) && lockMs >= 1000 ? lockMs : 30_000,
      onEvent: (m) => ctx.out.info(m),
    });
    ctx.out.info(`Worker ready in ${ws.root}, taking stages from ${queue}.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    ctx.out.info('Stopping after the stages in progress…');
    await w.close();
    await remote.close();
    await repo.close();
  },
};

/** `trestle pipeline export k8s`: the pipeline as Kubernetes Jobs. */
const exportK8s: Command = {
  name: 'export',
  summary: 'Write the pipeline as Kubernetes Jobs (one per stage, in dependency order)',
  usage: 'k8s',
  description: [
    'Writes DIR/pipeline.yaml: a ServiceAccount, Role and RoleBinding, and one Job per stage that waits',
    "for its upstream Jobs (kubectl wait) and runs 'trestle run STAGE --no-deps' in a shared project",
    'volume (a ReadWriteMany PersistentVolumeClaim holding the checkout). Apply with kubectl apply -f DIR.',
  ].join('\n'),
  options: {
    file: FILE_OPTION,
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'output folder (default k8s)' },
    image: {
      type: 'string',
      valueName: 'IMAGE',
      description: 'image with the project and trestle (default trestle-project:latest)',
    },
    namespace: { type: 'string', valueName: 'NS', description: 'namespace (default default)' },
    claim: {
      type: 'string',
      valueName: 'PVC',
      description: 'PersistentVolumeClaim with the checkout (default trestle-pipeline-workspace)',
    },
    'tracking-uri': { type: 'string', valueName: 'URL', description: 'trestle server the stages log to' },
    force: { type: 'boolean', description: 'overwrite an existing pipeline.yaml' },
  },
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    if (ctx.positionals[0] !== 'k8s')
      throw new UsageError(`unknown target '${ctx.positionals[0]}'; the only one is k8s`);
    const { graph } = await loadGraph(ctx.values['file'] as string | undefined, ctx.config.home);
    const { kubernetesManifests, manifestsYaml } = await import('@trestle/pipelines/pipeline');
    const opt = (k: string): string | undefined => ctx.values[k] as string | undefined;
    const manifests = kubernetesManifests(graph, {
      image: opt('image') ?? 'trestle-project:latest',
      ...(opt('namespace') === undefined ? {} : { namespace: opt('namespace')! }),
      ...(opt('claim') === undefined ? {} : { workspaceClaim: opt('claim')! }),
      ...(opt('tracking-uri') === undefined ? {} : { trackingUri: opt('tracking-uri')! }),
    });
    const dir = resolve(opt('out') ?? 'k8s');
    const file = join(dir, 'pipeline.yaml');
    if (existsSync(file) && ctx.values['force'] !== true) {
      throw new UsageError(`${file} exists; pass --force to overwrite it`);
    }
    await mkdir(dir, { recursive: true });
    await writeFile(file, manifestsYaml(manifests));
    const jobs = manifests.filter((m) => m['kind'] === 'Job').length;
    ctx.out.result(
      { file, jobs, objects: manifests.length },
      () => `Wrote ${file}: ${jobs} Jobs (one per stage) and their RBAC.`,
    );
  },
};

/** `trestle pipeline …`. */
export const pipeline: CommandGroup = {
  name: 'pipeline',
  summary: 'Pipeline tools: export to Kubernetes',
  commands: [exportK8s],
};

/** `trestle dag`: prints the pipeline's graph. */
export const dag: Command = {
  name: 'dag',
  summary: 'Show the pipeline as a graph of stages (validates it too)',
  options: { file: FILE_OPTION },
  positionals: { max: 0 },
  run: async (ctx) => {
    const { graph } = await loadGraph(ctx.values['file'] as string | undefined, ctx.config.home);
    const { describeGraph } = await import('@trestle/pipelines/pipeline');
    ctx.out.result(
      {
        stages: graph.order.map((s) => ({
          name: s.name,
          cmd: s.cmd,
          deps: s.deps,
          outs: s.outs,
          after: [...graph.upstream.get(s.name)!],
        })),
      },
      () => describeGraph(graph),
    );
  },
};
