import { ROLES } from '@trestle/core';
import { describe, expect, it } from 'vitest';
import { ACCESS_RULES, requiredAccess, type Access } from './route-access.js';

describe('requiredAccess', () => {
  it.each<[string, string | undefined, Access]>([
    // Public: probes and the API reference.
    ['GET', '/health', 'public'],
    ['HEAD', '/ready', 'public'],
    ['GET', '/api/v1/openapi.json', 'public'],
    ['GET', '/docs', 'public'],
    ['GET', '/docs/static/*', 'public'],
    ['GET', '/docs/json', 'public'],
    // Reading needs reader.
    ['GET', '/api/v1/experiments', 'reader'],
    ['HEAD', '/api/v1/runs/:runId', 'reader'],
    ['GET', '/api/v1/runs/:runId/artifacts/*', 'reader'],
    ['GET', '/api/2.0/mlflow/runs/get', 'reader'],
    ['GET', '/ajax-api/2.0/mlflow/experiments/search', 'reader'],
    ['GET', '/api/2.0/mlflow-artifacts/artifacts/*', 'reader'],
    // POSTs that only read.
    ['POST', '/api/v1/runs/search', 'reader'],
    ['POST', '/api/v1/runs/compare', 'reader'],
    ['POST', '/api/2.0/mlflow/runs/search', 'reader'],
    ['POST', '/graphql', 'reader'],
    ['POST', '/ajax-api/2.0/mlflow/experiments/search', 'reader'],
    ['POST', '/api/2.0/mlflow/artifacts/presigned-download-url', 'reader'],
    // Writes need editor.
    ['POST', '/api/v1/experiments', 'editor'],
    ['PATCH', '/api/v1/runs/:runId', 'editor'],
    ['PUT', '/api/v1/runs/:runId/artifacts/*', 'editor'],
    ['DELETE', '/api/v1/experiments/:experimentId/tags/:key', 'editor'],
    ['POST', '/api/2.0/mlflow/runs/log-batch', 'editor'],
    ['POST', '/api/2.0/mlflow/artifacts/presigned-upload-url', 'editor'],
    ['PUT', '/ajax-api/2.0/mlflow-artifacts/artifacts/*', 'editor'],
    ['POST', '/api/2.0/mlflow-artifacts/mpu/*', 'editor'],
    ['OPTIONS', '/api/v1/experiments', 'editor'],
    // Tokens need admin, reading them too.
    ['GET', '/api/v1/tokens', 'admin'],
    ['POST', '/api/v1/tokens', 'admin'],
    ['DELETE', '/api/v1/tokens/:tokenId', 'admin'],
    // No route: reader, so that a caller without a token learns nothing.
    ['GET', undefined, 'reader'],
    ['DELETE', undefined, 'reader'],
  ])('%s %s needs %s', (method, url, access) => {
    expect(requiredAccess(method, url)).toBe(access);
  });

  it('does not take a route that merely starts like a public one for public', () => {
    expect(requiredAccess('GET', '/docsx')).toBe('reader');
    expect(requiredAccess('GET', '/healthz')).toBe('reader');
    expect(requiredAccess('POST', '/api/v1/tokensx')).toBe('editor');
    expect(requiredAccess('GET', '/api/v1/runs/search')).toBe('reader');
    expect(requiredAccess('DELETE', '/api/v1/runs/search')).toBe('editor');
  });

  it('lowers the method', () => {
    expect(requiredAccess('post', '/api/v1/runs/search')).toBe('reader');
    expect(requiredAccess('get', '/api/v1/runs/:runId')).toBe('reader');
  });

  it('has a reason for every exception, and only known access levels', () => {
    for (const rule of ACCESS_RULES) {
      expect(rule.why.length).toBeGreaterThan(10);
      expect(['public', ...ROLES]).toContain(rule.access);
      expect(rule.routes.length).toBeGreaterThan(0);
    }
  });
});
