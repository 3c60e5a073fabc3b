/**
 * Worker-thread half of `DriftPool`: computes `driftFromColumns` on the columns it is sent
 * (numeric ones in shared memory, no copy) and answers with the features, or the error as JSON.
 */
import { parentPort } from 'node:worker_threads';
import { TrestleError } from '@trestle/core';
import type { Column } from '../profile/columns.js';
import { driftFromColumns, type RawDriftOptions } from './from-raw.js';

/** One job: a subset of the columns of both tables. */
export interface PoolJob {
  id: number;
  reference: Record<string, Column>;
  current: Record<string, Column>;
  options: RawDriftOptions;
}

const port = parentPort;
if (port !== null) {
  port.on('message', (job: PoolJob) => {
    try {
      const { features } = driftFromColumns(job.reference, job.current, job.options);
      port.postMessage({ id: job.id, features });
    } catch (err) {
      const error =
        err instanceof TrestleError ? err.toJSON() : { code: 'INTERNAL', message: String((err as Error).message) };
      port.postMessage({ id: job.id, error });
    }
  });
  port.postMessage({ ready: true });
}
