import { closeSync, constants, openSync, writeSync } from 'node:fs';

/** Options of {@link LogSink}. */
export interface LogSinkOptions {
  /**
   * Where lines go: a file descriptor (default 1, stdout) or a file path (appended to). A
   * descriptor is reopened non-blocking through `/dev/fd/N` where the system allows it, so a
   * full pipe never stalls the process.
   */
  destination?: number | string;
  /** Turns each JSON line (pino's output, without its newline) into the text written; default as it is. */
  format?: (line: string) => string;
  /** Most bytes kept waiting while the destination cannot take more (a full pipe); default 1 MiB. Beyond, lines are dropped. */
  maxPendingBytes?: number;
  /** Keep lines back until {@link LogSink.release} (so that a banner can come first); default false. */
  hold?: boolean;
  /**
   * Longest a line waits to be written, ms; default {@link FLUSH_DELAY_MS}. Lines arriving
   * meanwhile go in the same system call; 0 writes once per turn of the event loop.
   */
  flushDelayMs?: number;
}

/**
 * Default {@link LogSinkOptions.flushDelayMs}. One client making small requests one after
 * another gets one turn of the event loop per request, so writing once per turn cost one
 * system call per request line (about a tenth of a `log-metric` call's server time); within
 * 5 ms a busy server gathers tens of lines per call, and nobody reading the log sees the delay.
 */
const FLUSH_DELAY_MS = 5;

const RETRY_MS = 50;
const BATCH_BYTES = 64 * 1024;

function errnoCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) n += 1;
  return Math.max(1, n);
}

/**
 * A log destination that never blocks serving. Lines are gathered for up to `flushDelayMs` (or
 * 64 kB) and written in one system call, without waiting: a destination that cannot take more for
 * now (a pipe whose reader is slow: `EAGAIN`) keeps up to `maxPendingBytes` waiting and is
 * retried on a timer; a write that fails (a full disk: `ENOSPC`, a closed pipe: `EPIPE`) drops
 * those lines. Dropped lines are counted ({@link dropped}) and, once writing works again,
 * reported in one line. Pino writes to it like to a stream (`pino({}, sink)`).
 *
 * @example
 * const sink = new LogSink({ destination: 1, format: prettyLogLine });
 * const app = Fastify({ logger: { level: 'info', stream: sink } });
 */
export class LogSink {
  readonly #fd: number;
  readonly #ownsFd: boolean;
  readonly #format: (line: string) => string;
  readonly #maxPending: number;
  readonly #flushDelayMs: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #retry: NodeJS.Timeout | undefined;
  #held: boolean;
  #dropped = 0;
  #reported = 0;
  #closed = false;
  readonly #flushAtExit = (): void => this.flush();

  constructor(options: LogSinkOptions = {}) {
    const destination = options.destination ?? 1;
    this.#format = options.format ?? ((line) => line);
    this.#maxPending = options.maxPendingBytes ?? 1024 * 1024;
    this.#held = options.hold ?? false;
    this.#flushDelayMs = options.flushDelayMs ?? FLUSH_DELAY_MS;
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK;
    if (typeof destination === 'string') {
      this.#fd = openSync(destination, flags | constants.O_CREAT, 0o644);
      this.#ownsFd = true;
    } else {
      // A descriptor of its own with O_NONBLOCK, leaving the shared one (and process.stdout) as they are.
      let fd = destination;
      let owns = false;
      try {
        fd = openSync(`/dev/fd/${destination}`, flags);
        owns = true;
      } catch {
        // No /dev/fd (or a socket, which cannot be reopened): write to the descriptor itself.
      }
      this.#fd = fd;
      this.#ownsFd = owns;
    }
    process.on('exit', this.#flushAtExit);
  }

  /** Lines lost so far because the destination could not take them. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Takes one line (pino passes each JSON line with its newline). Never throws, never waits. */
  write(chunk: string): boolean {
    if (this.#closed) return true;
    const text = this.#format(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk);
    const line = text.endsWith('\n') ? text : `${text}\n`;
    if (this.#pendingBytes + line.length > this.#maxPending) {
      this.#dropped += 1;
      return true;
    }
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= BATCH_BYTES) this.flush();
    else this.#schedule();
    return true;
  }

  /** Writes `text` ahead of every line held back, then lets lines through (see {@link LogSinkOptions.hold}). */
  release(text?: string): void {
    if (text !== undefined) {
      const line = text.endsWith('\n') ? text : `${text}\n`;
      this.#pending.unshift(line);
      this.#pendingBytes += line.length;
    }
    this.#held = false;
    this.flush();
  }

  /** Writes what is waiting now, as far as the destination takes it without waiting. */
  flush(): void {
    this.#scheduled = false;
    if (this.#held || this.#pending.length === 0 || this.#retry !== undefined) return;
    if (this.#dropped > this.#reported) {
      const lost = this.#dropped - this.#reported;
      this.#reported = this.#dropped;
      const note = this.#format(
        JSON.stringify({
          level: 40,
          time: Date.now(),
          dropped: lost,
          msg: `${lost} log line(s) dropped: the log destination could not take them`,
        }),
      );
      this.#pending.unshift(`${note}\n`);
      this.#pendingBytes += note.length + 1;
    }
    let data = Buffer.from(this.#pending.join(''));
    this.#pending = [];
    this.#pendingBytes = 0;
    while (data.length > 0) {
      let written: number;
      try {
        written = writeSync(this.#fd, data);
      } catch (err) {
        if (errnoCode(err) === 'EAGAIN') {
          // Full for now: keep the rest (within the bound) and come back later.
          const rest = data.toString();
          this.#pending = [rest];
          this.#pendingBytes = rest.length;
          this.#retry = setTimeout(() => {
            this.#retry = undefined;
            this.flush();
          }, RETRY_MS).unref();
          return;
        }
        // ENOSPC, EPIPE, EIO…: these lines are lost; later ones will try again.
        this.#dropped += countLines(data);
        return;
      }
      data = data.subarray(written);
    }
  }

  /** Writes what it can and closes a descriptor it opened. */
  close(): void {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.flush();
    this.#closed = true;
    process.off('exit', this.#flushAtExit);
    if (this.#ownsFd) {
      try {
        closeSync(this.#fd);
      } catch {
        // Already gone.
      }
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#held) return;
    this.#scheduled = true;
    // Unref'd: a process ending on its own writes what waits at exit (see the constructor).
    if (this.#flushDelayMs > 0) setTimeout(this.#flushLater, this.#flushDelayMs).unref();
    else setImmediate(this.#flushLater);
  }

  readonly #flushLater = (): void => {
    if (this.#scheduled) this.flush();
  };
}
