import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withSpinner } from './progress.js';

function stream(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  const chunks: Buffer[] = [];
  s.on('data', (b: Buffer) => chunks.push(b));
  return { out: s as unknown as NodeJS.WriteStream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const slow = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('withSpinner', () => {
  it('spins on a terminal once work takes longer than the delay, then erases itself', async () => {
    const { out, text } = stream(true);
    expect(await withSpinner(out, false, 'searching runs', () => slow(450, 42), 150)).toBe(42);
    // eslint-disable-next-line no-control-regex
    expect(text()).toMatch(/\r\x1b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] searching runs… \d\.\ds/);
    expect(text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('prints nothing for quick work, on a pipe, or with --json', async () => {
    for (const [tty, json, ms] of [
      [true, false, 10],
      [false, false, 450],
      [true, true, 450],
    ] as const) {
      const { out, text } = stream(tty);
      await withSpinner(out, json, 'x', () => slow(ms, 1), 150);
      expect(text()).toBe('');
    }
  });

  it('passes the failure of the work through, erasing the spinner', async () => {
    const { out, text } = stream(true);
    await expect(
      withSpinner(out, false, 'x', () => slow(400, 0).then(() => Promise.reject(new Error('boom'))), 150),
    ).rejects.toThrow('boom');
    expect(text().endsWith('\r\x1b[2K')).toBe(true);
  });
});
