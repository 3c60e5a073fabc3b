import type { Metric, RunStatus } from '@trestle/core';

/** Where the runs of a process live, in a form a worker thread can reconnect with. */
export type FinishTarget =
  { kind: 'rest'; trackingUri: string; token?: string } | { kind: 'embedded'; db: string; artifacts: string };

/** One run to finish: its points not yet written and its final status. */
export interface RunToFinish {
  runId: string;
  metrics: Metric[];
  status: Exclude<RunStatus, 'RUNNING' | 'SCHEDULED'>;
  endTime: number;
}

/** What the exit worker is asked to do. */
export interface FinishJob {
  target: FinishTarget;
  runs: RunToFinish[];
  /** The main thread waits this long at most (ms). */
  timeoutMs: number;
}

/** What the exit worker reports back. */
export interface FinishOutcome {
  /** Runs whose status was written. */
  ended: string[];
  /** Failures; `runId` is empty when the store could not be opened at all. */
  errors: { runId: string; message: string }[];
}

/** Values of the state word shared with the worker. */
export const EXIT_STATE = { pending: 0, done: 1 } as const;
