import { describe, expect, it } from 'vitest';
import { newRequestId } from './ids.js';

describe('newRequestId', () => {
  it('is a UUID version 7 holding the time, so that later ids sort after earlier ones', () => {
    const id = newRequestId(Date.UTC(2026, 11, 7));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(Date.UTC(2026, 11, 7));
    const ids = Array.from({ length: 50 }, (_, i) => newRequestId(1_800_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => newRequestId(5))).size).toBe(1000);
  });
});
