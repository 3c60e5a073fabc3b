import { mkdirSync, openSync, readFileSync, closeSync, writeSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

function parseHolder(text: string): [host: string, pid: number] {
  const at = text.lastIndexOf(':');
  return at < 0 ? [hostname(), Number(text)] : [text.slice(0, at), Number(text.slice(at + 1))];
}

/**
 * An exclusive lock on a workspace's pipeline state (`trestle.lock` and the stage cache),
 * held by one `trestle run` at a time. A second run waits for it (saying so once) instead of
 * failing as DVC's lock errors do; a lock left by a dead process is taken over.
 *
 * @example const lock = await RepoLock.acquire('/repo/.trestle/pipeline.lock', () => console.error('waiting…'));
 * try { … } finally { lock.release(); }
 */
export class RepoLock {
  private constructor(readonly file: string) {}

  static async acquire(file: string, onWait: (pid: number) => void = () => undefined, pollMs = 100): Promise<RepoLock> {
    mkdirSync(dirname(file), { recursive: true });
    let told = false;
    for (;;) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, `${hostname()}:${process.pid}`);
        closeSync(fd);
        return new RepoLock(file);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
      }
      let holder = NaN;
      let host = '';
      try {
        [host, holder] = parseHolder(readFileSync(file, 'utf8'));
      } catch {
        continue; // released between our open and read
      }
      // Only a holder on this machine can be checked; another machine's (a shared volume) is trusted.
      if (host === hostname() && Number.isInteger(holder) && holder > 0 && !alive(holder)) {
        try {
          unlinkSync(file); // the holder died without releasing
        } catch {
          // someone else took it over first
        }
        continue;
      }
      if (!told) {
        onWait(holder);
        told = true;
      }
      await sleep(pollMs);
    }
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}
