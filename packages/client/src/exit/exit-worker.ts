/**
 * Worker-thread half of `ExitWorker.finish`: the main thread is about to exit and blocks in
 * `Atomics.wait` while this thread writes the runs' last metric points and their final status
 * through the same store code as always (the embedded store, or the REST client), then wakes it.
 * It prints nothing (the main thread relays the outcome) and never throws.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrackingBackend } from '@trestle/core';
import { EXIT_STATE, type FinishJob, type FinishOutcome } from './finish-job.js';
import { importStore } from '../embedded-store.js';

const { state, message, warm } = workerData as {
  state: SharedArrayBuffer;
  message: SharedArrayBuffer;
  warm: 'rest' | 'embedded';
};

/** Loads the modules a target needs, ahead of the exit (see `ExitWorker.warm`). */
async function preload(kind: 'rest' | 'embedded'): Promise<void> {
  if (kind === 'rest') await import('../rest/index.js');
  else await importStore();
}

async function open(job: FinishJob): Promise<TrackingBackend> {
  if (job.target.kind === 'rest') {
    const { connectRest } = await import('../rest/index.js');
    return connectRest({
      trackingUri: job.target.trackingUri,
      ...(job.target.token === undefined ? {} : { token: job.target.token }),
      // The main thread's deadline bounds the whole job; retry briefly within it.
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 500 },
      timeoutMs: job.timeoutMs,
      warn: () => undefined,
    }).backend;
  }
  const { openMetadataStore } = await importStore();
  return openMetadataStore(job.target.db, { artifactRoot: job.target.artifacts, migrate: false });
}

async function finish(job: FinishJob): Promise<FinishOutcome> {
  const outcome: FinishOutcome = { ended: [], errors: [] };
  let backend: TrackingBackend | undefined;
  try {
    backend = await open(job);
    for (const run of job.runs) {
      try {
        for (let i = 0; i < run.metrics.length; i += 1000) {
          try {
            await backend.logBatch(run.runId, { metrics: run.metrics.slice(i, i + 1000) });
          } catch (err) {
            // Refused points must not keep the run RUNNING: record and go on to the status.
            outcome.errors.push({ runId: run.runId, message: `metrics not written: ${errorText(err)}` });
          }
        }
        await backend.updateRun(run.runId, { status: run.status, endTime: run.endTime });
        outcome.ended.push(run.runId);
      } catch (err) {
        outcome.errors.push({ runId: run.runId, message: errorText(err) });
      }
    }
  } catch (err) {
    outcome.errors.push({ runId: '', message: errorText(err) });
  } finally {
    await backend?.close().catch(() => undefined);
  }
  return outcome;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function report(outcome: FinishOutcome): void {
  const bytes = new TextEncoder().encode(JSON.stringify(outcome));
  const out = new Uint8Array(message);
  const length = Math.min(bytes.length, out.length);
  out.set(bytes.subarray(0, length));
  const flags = new Int32Array(state);
  Atomics.store(flags, 1, length);
  Atomics.store(flags, 0, EXIT_STATE.done);
  Atomics.notify(flags, 0);
}

parentPort?.on('message', (msg: { job?: FinishJob; warm?: 'rest' | 'embedded' }) => {
  if (msg.warm !== undefined) {
    void preload(msg.warm)
      .catch(() => undefined)
      .then(() => parentPort?.postMessage({ ready: msg.warm }));
  }
  if (msg.job !== undefined) void finish(msg.job).then(report);
});
await preload(warm).catch(() => undefined);
parentPort?.postMessage({ ready: warm });
