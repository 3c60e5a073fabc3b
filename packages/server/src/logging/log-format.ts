/** How the server writes its log: JSON lines (for machines), or one readable line per event (for a terminal). */
export type LogFormat = 'json' | 'pretty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

// Fields shown in their own place (or not at all: pid and hostname say nothing on a terminal).
const SHOWN = new Set([
  'level',
  'time',
  'msg',
  'pid',
  'hostname',
  'reqId',
  'err',
  'method',
  'url',
  'statusCode',
  'responseTime',
]);

function clock(ms: unknown): string {
  const d = new Date(typeof ms === 'number' ? ms : Date.now());
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function shown(value: unknown): string {
  return typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value);
}

/**
 * One pino JSON line as a line for people: time, level, what happened, then the other fields
 * as `key=value`; a request as `GET /path → 200 1.2 ms`; an error's stack indented below.
 * A line that is not JSON is returned as it is.
 *
 * @example prettyLogLine('{"level":30,"time":0,"reqId":"a1","method":"GET","url":"/health","statusCode":200,"responseTime":0.4,"msg":"request completed"}')
 * // '00:00:00.000 INFO  GET /health → 200 0.4 ms  reqId=a1'
 */
export function prettyLogLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return line;
    o = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = (LEVELS[Number(o['level'])] ?? String(o['level'])).padEnd(5);
  const what =
    typeof o['method'] === 'string' && typeof o['url'] === 'string' && o['statusCode'] !== undefined
      ? `${o['method']} ${o['url']} → ${shown(o['statusCode'])}${typeof o['responseTime'] === 'number' ? ` ${o['responseTime'].toFixed(1)} ms` : ''}${o['msg'] === 'request completed' ? '' : ` (${shown(o['msg'])})`}`
      : typeof o['msg'] === 'string'
        ? o['msg']
        : shown(o['msg'] ?? '');
  const extras = Object.entries(o)
    .filter(([k]) => !SHOWN.has(k))
    .map(([k, v]) => `${k}=${shown(v)}`);
  if (o['reqId'] !== undefined) extras.push(`reqId=${shown(o['reqId'])}`);
  let text = `${clock(o['time'])} ${level} ${what}${extras.length > 0 ? `  ${extras.join(' ')}` : ''}`;
  const err = o['err'] as { message?: unknown; stack?: unknown } | undefined;
  if (err !== undefined && err !== null) {
    const detail =
      typeof err.stack === 'string' ? err.stack : typeof err.message === 'string' ? err.message : JSON.stringify(err);
    text += `\n${detail
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`;
  }
  return text;
}
