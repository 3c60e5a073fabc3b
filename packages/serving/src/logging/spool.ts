/**
 * A bounded on-disk spool of shipments the control plane could not take yet.
 *
 * Shipments are JSON lines in numbered segment files (`segment-000001.jsonl`, …) under one
 * folder. When the spool is over its size the oldest segment is deleted and the records it
 * held are counted as dropped: the newest data is the most useful to monitoring. Segments
 * survive a restart and are replayed oldest first when the control plane answers again.
 */
import { appendFile, mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One shipment as spooled: the route, its body, how many records it holds, and its idempotency
 * key where the route needs one (window summaries; inference logs are idempotent by request id).
 */
export interface Shipment {
  readonly path: string;
  readonly key?: string;
  readonly records: number;
  readonly body: string;
}

interface Segment {
  readonly seq: number;
  bytes: number;
  records: number;
}

const NAME = /^segment-(\d+)\.jsonl$/;

export class Spool {
  private segments: Segment[] = [];
  private opened = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    // A sixteenth of the bound, so that dropping the oldest segments keeps the spool near it.
    private readonly segmentBytes = Math.max(4096, Math.floor(maxBytes / 16)),
    private readonly onDrop: (records: number) => void = () => {},
  ) {}

  get bytes(): number {
    return this.segments.reduce((s, g) => s + g.bytes, 0);
  }

  get records(): number {
    return this.segments.reduce((s, g) => s + g.records, 0);
  }

  private file(seq: number): string {
    return join(this.dir, `segment-${String(seq).padStart(6, '0')}.jsonl`);
  }

  /** Operations run one at a time (appends, replays, drops). */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.chain.then(op, op);
    this.chain = next.catch(() => {});
    return next;
  }

  private async open(): Promise<void> {
    if (this.opened) return;
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => NAME.test(n)).sort();
    for (const n of names) {
      const seq = Number(NAME.exec(n)![1]);
      const text = await readFile(join(this.dir, n), 'utf8');
      const lines = text.split('\n').filter((l) => l !== '');
      let records = 0;
      for (const l of lines) {
        try {
          records += (JSON.parse(l) as Shipment).records;
        } catch {
          /* a torn last line from a crash: skipped on replay */
        }
      }
      this.segments.push({ seq, bytes: (await stat(join(this.dir, n))).size, records });
    }
    this.opened = true;
  }

  /** Appends shipments; drops the oldest segments while over the size bound. */
  append(shipments: readonly Shipment[]): Promise<void> {
    return this.serial(async () => {
      await this.open();
      let last = this.segments.at(-1);
      if (last === undefined || last.bytes >= this.segmentBytes) {
        last = { seq: (last?.seq ?? 0) + 1, bytes: 0, records: 0 };
        this.segments.push(last);
      }
      const text = shipments.map((s) => JSON.stringify(s)).join('\n') + '\n';
      await appendFile(this.file(last.seq), text);
      last.bytes += Buffer.byteLength(text);
      last.records += shipments.reduce((s, x) => s + x.records, 0);
      while (this.bytes > this.maxBytes && this.segments.length > 1) {
        const oldest = this.segments.shift()!;
        await unlink(this.file(oldest.seq)).catch(() => {});
        this.onDrop(oldest.records);
      }
    });
  }

  /**
   * Sends spooled shipments oldest first with `send`; a segment is deleted once all its
   * shipments went. Stops at the first failure (the control plane is still away) and rethrows it.
   */
  replay(send: (s: Shipment) => Promise<void>): Promise<number> {
    return this.serial(async () => {
      await this.open();
      let sent = 0;
      while (this.segments.length > 0) {
        const seg = this.segments[0]!;
        let text: string;
        try {
          text = await readFile(this.file(seg.seq), 'utf8');
        } catch {
          this.segments.shift();
          continue;
        }
        const lines = text.split('\n').filter((l) => l !== '');
        let done = 0;
        try {
          for (const line of lines) {
            let s: Shipment;
            try {
              s = JSON.parse(line) as Shipment;
            } catch {
              done++;
              continue;
            }
            await send(s);
            done++;
            seg.records -= s.records;
            sent += s.records;
          }
        } finally {
          if (done === lines.length) {
            this.segments.shift();
            await unlink(this.file(seg.seq)).catch(() => {});
          } else if (done > 0) {
            // Rewrite the rest so a replayed shipment is not sent again after a restart.
            const rest = lines.slice(done).join('\n') + '\n';
            await writeFile(this.file(seg.seq), rest);
            seg.bytes = Buffer.byteLength(rest);
          }
        }
      }
      return sent;
    });
  }
}
