/**
 * Progress of long operations (hashing, linking, transfers), reported by the data and
 * pipeline code and rendered by the CLI as a bar with rate and ETA. Nothing here prints.
 */

/** One operation in progress: `tick` as items (files, objects) and bytes complete. */
export interface ProgressTask {
  tick(items: number, bytes?: number): void;
  /** The operation ended (successfully or not). */
  done(): void;
}

/** Starts tasks; the CLI's renders bars on a terminal, {@link SILENT_PROGRESS} does nothing. */
export interface ProgressSink {
  /**
   * @param label what is happening, e.g. `hashing data/images`
   * @param totalItems how many items, when known
   * @param totalBytes how many bytes, when known (then the bar shows MB/s)
   */
  start(label: string, totalItems?: number, totalBytes?: number): ProgressTask;
}

const NOOP_TASK: ProgressTask = { tick: () => undefined, done: () => undefined };

/** A sink that shows nothing (tests, `--json`). */
export const SILENT_PROGRESS: ProgressSink = { start: () => NOOP_TASK };
