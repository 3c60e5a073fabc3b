import { isAbsolute, resolve } from 'node:path';
import type { ActiveRun, Trestle } from '@trestle/client';
import type { TrestleConfig } from '@trestle/core';
import type { PipelineTracker, Stage, StageResult } from '@trestle/pipelines/pipeline';

/** Outputs larger than this are recorded by digest only, not uploaded as artifacts. */
const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** A store URI relative to the workspace root made absolute, so stage processes anywhere find it. */
function anchored(uri: string, root: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || isAbsolute(uri) ? uri : resolve(root, uri);
}

/** The configuration with the embedded store's paths anchored at the workspace root. */
export function workspaceConfig(config: TrestleConfig, root: string): TrestleConfig {
  return {
    ...config,
    home: anchored(config.home, root),
    db: anchored(config.db, root),
    artifacts: anchored(config.artifacts, root),
  };
}

/**
 * Records a pipeline run as a tracked run with one child run per stage that runs. Each
 * stage process gets `TRESTLE_RUN_ID` (and, with a server, `MLFLOW_TRACKING_URI` and
 * `MLFLOW_RUN_ID`) so a script using either SDK logs into its stage's run; parameters, the
 * metrics files, the dependencies (as dataset inputs with their digests) and the outputs (as
 * artifacts) are logged by the pipeline itself.
 */
export class RunTracker implements PipelineTracker {
  #parent: Promise<ActiveRun> | undefined;
  #parentId: string | undefined;
  #stages = 0;
  readonly #children = new Map<string, ActiveRun>();
  #client: Promise<Trestle> | undefined;

  /**
   * `connect` opens the tracking client when the first stage runs: a run in which every stage
   * is skipped records nothing, and then never loads the store (a third of the start-up of a
   * fully cached `trestle run`).
   */
  constructor(
    readonly connect: () => Promise<Trestle>,
    readonly config: TrestleConfig,
    readonly root: string,
    readonly experiment: string,
  ) {}

  get #trestle(): Promise<Trestle> {
    this.#client ??= this.connect();
    return this.#client;
  }

  /** Closes the client if this tracker opened one. */
  async close(): Promise<void> {
    if (this.#client !== undefined) await (await this.#client).close();
  }

  /** The pipeline's run, once a stage ran. */
  get runId(): string | undefined {
    return this.#parentId;
  }

  /** Environment for every stage; the pipeline's run itself starts with the first stage that runs. */
  async start(stages: readonly Stage[]): Promise<Record<string, string>> {
    this.#stages = stages.length;
    const env: Record<string, string> = { TRESTLE_EXPERIMENT: this.experiment };
    if (this.config.trackingUri !== undefined) {
      env['TRESTLE_TRACKING_URI'] = this.config.trackingUri;
      env['MLFLOW_TRACKING_URI'] = this.config.trackingUri;
    } else {
      env['TRESTLE_HOME'] = this.config.home;
      env['TRESTLE_DB'] = this.config.db;
      env['TRESTLE_ARTIFACTS'] = this.config.artifacts;
    }
    return Promise.resolve(env);
  }

  async #parentRun(): Promise<ActiveRun> {
    this.#parent ??= this.#trestle.then((t) =>
      t.startRun({
        experiment: this.experiment,
        name: `pipeline (${this.#stages} stage${this.#stages === 1 ? '' : 's'})`,
        tags: { 'trestle.pipeline.root': this.root },
      }),
    );
    return this.#parent;
  }

  async stageStarted(stage: Stage, params: Record<string, Record<string, unknown>>): Promise<Record<string, string>> {
    const parent = await this.#parentRun();
    this.#parentId = parent.id;
    const trestle = await this.#trestle;
    const run = await trestle.startRun({
      experiment: this.experiment,
      name: stage.name,
      parentRunId: parent.id,
      tags: { 'trestle.stage': stage.name, 'trestle.stage.cmd': stage.cmd.slice(0, 5000) },
    });
    this.#children.set(stage.name, run);
    const flat: Record<string, string> = {};
    for (const values of Object.values(params)) {
      for (const [k, v] of Object.entries(values))
        flat[k] = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    }
    if (Object.keys(flat).length > 0) await run.logParams(flat);
    return {
      TRESTLE_RUN_ID: run.id,
      TRESTLE_PARENT_RUN_ID: parent.id,
      ...(this.config.trackingUri === undefined ? {} : { MLFLOW_RUN_ID: run.id }),
    };
  }

  async stageEnded(stage: Stage, result: StageResult): Promise<void> {
    const run = this.#children.get(stage.name);
    if (run === undefined) return;
    for (const d of result.deps ?? []) {
      await run.logInput({ name: d.path, digest: `sha256:${d.sha256}`, source: d.path, context: 'dependency' });
    }
    if (result.metrics !== undefined && Object.keys(result.metrics).length > 0) await run.logMetrics(result.metrics);
    for (const o of result.outs ?? []) {
      await run.setTags({ [`trestle.out.${o.path}`]: `sha256:${o.sha256}` });
      if (o.size <= MAX_ARTIFACT_BYTES) {
        await run.logArtifact(
          resolve(this.root, o.path),
          o.kind === 'dir' ? o.path : o.path.split('/').slice(0, -1).join('/'),
        );
      }
    }
    // A stage stopped by Ctrl-C or SIGTERM has already ended its run KILLED (the SDK in the
    // stage process): a failed exit then says nothing new, and must not overwrite that.
    if (result.state === 'failed' && (await (await this.#trestle).backend.getRun(run.id)).info.status === 'KILLED') {
      run.abandon();
      return;
    }
    await run.end(result.state === 'failed' ? 'FAILED' : 'FINISHED');
  }

  async end(ok: boolean): Promise<void> {
    if (this.#parent !== undefined) await (await this.#parent).end(ok ? 'FINISHED' : 'FAILED');
  }
}
