import type { RunInfo } from './run.js';
import type { RunStore } from './ports/run-store.js';

/** What {@link killRun} did. */
export interface KillRunResult {
  /** True when the run was RUNNING (or SCHEDULED) and is now KILLED; false when it had already ended. */
  killed: boolean;
  /** The run's info after the call. */
  run: RunInfo;
}

/**
 * Marks a run that is still RUNNING (or SCHEDULED) as KILLED, with the end time now: for runs
 * whose process died without ending them (`kill -9`, a lost machine). A run that already ended
 * keeps its status and end time (`killed: false`), so killing twice, or killing a finished run,
 * changes nothing. The check and the update are two calls: a run ending at that very moment may
 * end KILLED instead.
 *
 * @example
 * const { killed, run } = await killRun(store, '4f2a…');
 */
export async function killRun(
  store: Pick<RunStore, 'getRun' | 'updateRun'>,
  runId: string,
  now: number = Date.now(),
): Promise<KillRunResult> {
  const { info } = await store.getRun(runId);
  if (info.status !== 'RUNNING' && info.status !== 'SCHEDULED') return { killed: false, run: info };
  const run = await store.updateRun(runId, { status: 'KILLED', endTime: Math.max(now, info.startTime) });
  return { killed: true, run };
}
