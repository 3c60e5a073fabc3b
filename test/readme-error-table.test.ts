import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, ERROR_CODE_INFO } from '@trestle/core';
import { describe, expect, it } from 'vitest';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

/** The rows of the README's error table: code → its cells, as printed. */
function readmeErrorRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of README.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const code = /^`([A-Z_]+)`$/.exec(cells[0] ?? '')?.[1];
    if (code !== undefined && cells.length === 5) rows.set(code, cells.slice(1));
  }
  return rows;
}

describe('the error table in the README', () => {
  it('lists every error code once, with the statuses and MLflow code of the one table in core', () => {
    const rows = readmeErrorRows();
    expect([...rows.keys()]).toEqual([...ERROR_CODES]);
    for (const code of ERROR_CODES) {
      const info = ERROR_CODE_INFO[code];
      expect(rows.get(code), code).toEqual([
        String(info.http),
        `\`${info.mlflow}\``,
        String(info.mlflowHttp),
        info.meaning,
      ]);
    }
  });

  it('gives v1 users the statuses the issue promised: 409, 412, 429, 507', () => {
    expect(ERROR_CODE_INFO.ALREADY_EXISTS.http).toBe(409);
    expect(ERROR_CODE_INFO.CONFLICT.http).toBe(409);
    expect(ERROR_CODE_INFO.FAILED_PRECONDITION.http).toBe(412);
    expect(ERROR_CODE_INFO.RATE_LIMITED.http).toBe(429);
    expect(ERROR_CODE_INFO.STORAGE_FULL.http).toBe(507);
  });
});
