import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { table } from './output.js';
import { systemErrorMessage } from './system-errors.js';
import { terminalStyle, withTerminalStyle } from './terminal.js';

/** A stream that says it is a terminal `columns` wide, as process.stdout does on one. */
function fakeTty(columns: number): NodeJS.WritableStream {
  return Object.assign(new PassThrough(), { isTTY: true, columns });
}

const ESC = '\x1b[';

describe('terminal style', () => {
  it('gives a terminal its width and colour, and a pipe neither', () => {
    expect(terminalStyle(fakeTty(100), {}, { wide: false, json: false })).toEqual({ width: 100, color: true });
    expect(terminalStyle(new PassThrough(), {}, { wide: false, json: false })).toEqual({
      width: undefined,
      color: false,
    });
  });

  it('respects NO_COLOR, TERM=dumb, COLUMNS, --wide and --json', () => {
    expect(terminalStyle(fakeTty(100), { NO_COLOR: '1' }, { wide: false, json: false }).color).toBe(false);
    expect(terminalStyle(fakeTty(100), { TERM: 'dumb' }, { wide: false, json: false }).color).toBe(false);
    // An empty NO_COLOR does not count (no-color.org).
    expect(terminalStyle(fakeTty(100), { NO_COLOR: '' }, { wide: false, json: false }).color).toBe(true);
    expect(terminalStyle(fakeTty(100), { COLUMNS: '50' }, { wide: false, json: false }).width).toBe(50);
    expect(terminalStyle(fakeTty(100), {}, { wide: true, json: false })).toEqual({ width: undefined, color: true });
    expect(terminalStyle(fakeTty(100), {}, { wide: false, json: true })).toEqual({ width: undefined, color: false });
  });
});

describe('tables on a terminal', () => {
  const rows = [
    ['4f2a', 'a-very-long-run-name-that-goes-on-and-on-for-a-while', 'FINISHED'],
    ['9c1b', 'short', 'FAILED'],
  ];

  it('fit the width, cutting the widest column with …', () => {
    const text = withTerminalStyle({ width: 40, color: false }, () => table(['id', 'name', 'status'], rows));
    const lines = text.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines[1]).toMatch(/^4f2a {2}a-very-long-run-name-\S*… {2}FINISHED$/);
    expect(lines[2]).toMatch(/^9c1b {2}short {2,}FAILED$/);
  });

  it("follow the process's own call's style (main.ts), which a scoped call overrides", async () => {
    try {
      await withTerminalStyle({ width: 40, color: false }, () => Promise.resolve(), true);
      // Set for the process: it holds after the call and in later asynchronous work.
      await new Promise((r) => setImmediate(r));
      expect(table(['id', 'name', 'status'], rows)).toContain('…');
      const scoped = withTerminalStyle({ width: undefined, color: false }, () => table(['id', 'name', 'status'], rows));
      expect(scoped).not.toContain('…');
    } finally {
      withTerminalStyle({ width: undefined, color: false }, () => undefined, true);
    }
  });

  it('are whole without a width (a pipe, or --wide)', () => {
    const text = withTerminalStyle({ width: undefined, color: false }, () => table(['id', 'name', 'status'], rows));
    expect(text).toContain('a-very-long-run-name-that-goes-on-and-on-for-a-while');
    expect(text).not.toContain('…');
  });

  it('colour statuses and headers only when colour is on, keeping the columns aligned', () => {
    const two = rows.map(([id, , status]) => [id, status]);
    const plain = withTerminalStyle({ width: undefined, color: false }, () => table(['id', 'status'], two));
    expect(plain).not.toContain(ESC);
    const coloured = withTerminalStyle({ width: undefined, color: true }, () => table(['id', 'status'], two));
    expect(coloured).toContain(`${ESC}32mFINISHED${ESC}0m`);
    expect(coloured).toContain(`${ESC}31mFAILED`);
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\x1b\[\d+m/g, '').replace(/ +$/gm, '')).toBe(plain);
  });
});

describe('system errors', () => {
  it('say in one line that a port is taken and what to do', () => {
    const err = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:5000'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '127.0.0.1',
      port: 5000,
    });
    expect(systemErrorMessage(err)).toBe(
      'port 5000 on 127.0.0.1 is already in use (another trestle server?): stop that process, or pick another port with --port (0 picks a free one)',
    );
    expect(systemErrorMessage(new Error('other'))).toBeUndefined();
  });
});
