import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_CODE_INFO, TrestleError, isTrestleError } from './errors.js';
import { decodePageToken, encodePageToken } from './page.js';
import { loadConfig } from './config.js';

describe('TrestleError', () => {
  it('maps every code to an HTTP status and an MLflow error code', () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_CODE_INFO[code].http).toBeGreaterThanOrEqual(400);
      expect(ERROR_CODE_INFO[code].mlflow).toMatch(/^[A-Z_]+$/);
    }
    expect(new TrestleError('NOT_FOUND', 'x').httpStatus).toBe(404);
  });

  it('survives a JSON round trip with code, message and details', () => {
    const err = new TrestleError('CONFLICT', 'param l2 is 0.1, not 0.2', { key: 'l2' });
    const back = TrestleError.fromJSON(JSON.parse(JSON.stringify(err)));
    expect(back).toBeInstanceOf(TrestleError);
    expect(back.toJSON()).toEqual({ code: 'CONFLICT', message: 'param l2 is 0.1, not 0.2', details: { key: 'l2' } });
    expect(isTrestleError(back, 'CONFLICT')).toBe(true);
    expect(isTrestleError(back, 'NOT_FOUND')).toBe(false);
    expect(TrestleError.fromJSON({ code: 'NOPE', message: 1 }).code).toBe('INTERNAL');
  });
});

describe('page tokens', () => {
  it('round-trip and reject tampered tokens', () => {
    expect(decodePageToken(encodePageToken({ offset: 250 }))).toEqual({ offset: 250 });
    expect(decodePageToken(undefined)).toEqual({ offset: 0 });
    for (const bad of [
      'garbage!',
      encodePageToken({ offset: -1 }),
      Buffer.from('{"offset":"1"}').toString('base64url'),
    ]) {
      expect(() => decodePageToken(bad)).toThrow(/invalid page token/);
    }
  });
});

describe('loadConfig', () => {
  it('takes flags over environment over defaults, frozen', () => {
    const c = loadConfig({ db: '/flag.db' }, { TRESTLE_DB: '/env.db', TRESTLE_HOME: '/h' });
    expect(c).toMatchObject({ db: '/flag.db', home: '/h', artifacts: '/h/artifacts', experiment: 'Default' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(loadConfig({}, {}).db).toBe('.trestle/trestle.db');
  });

  it('rejects a tracking URI that is not http(s)', () => {
    expect(() => loadConfig({}, { TRESTLE_TRACKING_URI: 'ftp://x' })).toThrow(/must be an http/);
  });
});
