import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prettyLogLine } from './log-format.js';
import { LogSink } from './log-sink.js';
import { redactUrl } from './redact.js';

const line = (i: number): string => `${JSON.stringify({ level: 30, time: 0, i, msg: 'request completed' })}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LogSink: logging never blocks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trestle-log-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('on a full disk (/dev/full) drops and counts lines and returns at once', () => {
    const sink = new LogSink({ destination: '/dev/full' });
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) sink.write(line(i));
    sink.flush();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sink.dropped).toBeGreaterThanOrEqual(10_000);
    sink.close();
  });

  it('on a pipe nobody reads keeps a bounded backlog, drops the rest, and delivers (with a count) once read', async () => {
    const fifo = join(dir, 'log.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const sink = new LogSink({ destination: fifo, maxPendingBytes: 64 * 1024 });
      const started = performance.now();
      for (let i = 0; i < 20_000; i++) sink.write(line(i));
      sink.flush();
      expect(performance.now() - started).toBeLessThan(1000);
      expect(sink.dropped).toBeGreaterThan(10_000);
      // Drain the pipe: the backlog arrives, then a line saying how many were dropped.
      let text = '';
      const buffer = Buffer.alloc(1 << 16);
      for (let attempt = 0; attempt < 100 && !text.includes('dropped'); attempt++) {
        try {
          const n = readSync(reader, buffer);
          text += buffer.toString('utf8', 0, n);
        } catch {
          await sleep(20);
        }
        sink.write(line(-1));
        await sleep(10);
      }
      expect(text).toContain('"i":0,');
      expect(text).toMatch(/"dropped":\d+,"msg":"\d+ log line\(s\) dropped/);
      sink.close();
    } finally {
      closeSync(reader);
    }
  });

  it('gathers the lines that arrive within flushDelayMs, then writes them all', async () => {
    const file = join(dir, 'out.log');
    const sink = new LogSink({ destination: file, flushDelayMs: 50 });
    sink.write(line(1));
    await new Promise((r) => setImmediate(r));
    sink.write(line(2));
    expect(readFileSync(file, 'utf8')).toBe('');
    await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 2000, interval: 10 }).toBe(line(1) + line(2));
    sink.write(line(3));
    sink.close();
    expect(readFileSync(file, 'utf8')).toBe(line(1) + line(2) + line(3));
  });

  it('holds lines back until released, then writes the banner first', async () => {
    const file = join(dir, 'out.log');
    const sink = new LogSink({ destination: file, hold: true });
    sink.write(line(1));
    await sleep(20);
    expect(readFileSync(file, 'utf8')).toBe('');
    sink.release('BANNER');
    sink.close();
    expect(readFileSync(file, 'utf8')).toBe(`BANNER\n${line(1)}`);
  });
});

describe('log format and redaction', () => {
  it('prints a request as one readable line', () => {
    const text = prettyLogLine(
      '{"level":30,"time":0,"pid":1,"hostname":"h","reqId":"a1","method":"GET","url":"/health","statusCode":200,"responseTime":0.44,"msg":"request completed"}',
    );
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}GET \/health → 200 0\.4 ms {2}reqId=a1$/);
  });

  it('redacts secrets in query strings and nothing else', () => {
    expect(redactUrl('/api/v1/runs?token=abc&x=1')).toBe('/api/v1/runs?token=[REDACTED]&x=1');
    expect(redactUrl('/a?access_token=s3cret&refresh-token=t&X-Amz-Signature=ff&password=p&api_key=k')).toBe(
      '/a?access_token=[REDACTED]&refresh-token=[REDACTED]&X-Amz-Signature=[REDACTED]&password=[REDACTED]&api_key=[REDACTED]',
    );
    expect(redactUrl('/api/2.0/mlflow/metrics/get-history?run_id=1&metric_key=loss')).toBe(
      '/api/2.0/mlflow/metrics/get-history?run_id=1&metric_key=loss',
    );
    expect(redactUrl('/health')).toBe('/health');
  });
});
