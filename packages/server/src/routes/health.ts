import { isTrestleError } from '@trestle/core';
import { HealthStatus as Status, NotReady as Unavailable } from '@trestle/core/rest';
import type { RoutePlugin } from '../route-types.js';

/** How long `/ready` waits for the metadata store before calling it unavailable. */
export const READY_TIMEOUT_MS = 2000;

/**
 * Probes for load balancers and orchestrators: `GET /health` answers while the process is
 * alive; `GET /ready` answers 200 only when the metadata store answers a trivial query, the
 * artifact store passes its access check (S3: credentials and bucket) and the metadata
 * store's last write did not fail for want of space, and 503 otherwise (within {@link READY_TIMEOUT_MS}). Probe requests log only warnings.
 */
export const healthRoutes: RoutePlugin = (app, { stores }, done) => {
  app.get(
    '/health',
    {
      logLevel: 'warn',
      schema: { tags: ['health'], summary: 'Liveness: the process is up', response: { 200: Status } },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Readiness: the metadata store answers and the artifact store can be used',
        response: { 200: Status, 503: Unavailable },
      },
    },
    async (request, reply) => {
      try {
        await withTimeout(probe(stores.metadata.getExperiment.bind(stores.metadata)), READY_TIMEOUT_MS);
      } catch (err) {
        request.log.warn({ err }, 'metadata store is not ready');
        return reply
          .status(503)
          .send({ status: 'unavailable', message: 'the metadata store does not answer; the server log has the cause' });
      }
      if (stores.artifacts.checkAccess !== undefined) {
        try {
          await withTimeout(stores.artifacts.checkAccess(), READY_TIMEOUT_MS);
        } catch (err) {
          request.log.warn({ err }, 'artifact store is not ready');
          return reply.status(503).send({ status: 'unavailable', message: artifactStoreProblem(err) });
        }
      }
      // It answers, but its last write failed for want of space: it cannot take what clients send.
      const writes = stores.metadata.writeStatus?.();
      if (writes !== undefined && !writes.writable) {
        return reply.status(503).send({ status: 'unavailable', message: writes.reason });
      }
      return { status: 'ok' as const };
    },
  );

  done();
};

/**
 * What `/ready` says about an artifact store that cannot be used: the fix for a configuration
 * problem (no endpoint or host in it: the probe is public), else where to look.
 */
function artifactStoreProblem(err: unknown): string {
  const fix = isTrestleError(err, 'FAILED_PRECONDITION') ? err.details['fix'] : undefined;
  return typeof fix === 'string'
    ? `the artifact store cannot be used: ${fix}`
    : 'the artifact store does not answer; the server log has the cause';
}

// Any answer from the store, even "no such experiment", shows that it is up.
async function probe(getExperiment: (id: string) => Promise<unknown>): Promise<void> {
  try {
    await getExperiment('0');
  } catch (err) {
    if (!isTrestleError(err, 'NOT_FOUND')) throw err;
  }
}

async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
