import { loadavg } from 'node:os';

/**
 * The 1, 5 and 15-minute load averages, `0.95 0.47 0.98`: benchmarks print them before and
 * after, since the machine may be shared and absolute times drift with its load.
 */
export function loadAverages(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}
