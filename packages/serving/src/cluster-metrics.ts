/**
 * `/metrics` across `trestle serve --workers N`: the workers share the port, so whichever worker
 * a scrape reaches asks the primary process, which gathers every worker's registry with
 * prom-client's `AggregatorRegistry` (counters and histograms summed, the model-info gauge by
 * maximum) and sends the text back. A scrape therefore sees the whole server, never one worker.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { ServingMetrics } from './metrics.js';

const REQUEST = 'trestle:cluster-metrics-request';
const ANSWER = 'trestle:cluster-metrics-answer';

interface Request {
  type: typeof REQUEST;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  error?: string;
}

const isMessage = <T extends { type: string }>(m: unknown, type: T['type']): m is T =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;

/**
 * In the primary of `--workers N`: answers the workers' requests for the aggregated metrics.
 * Call once, before forking.
 *
 * @example if (cluster.isPrimary) serveClusterMetrics(); cluster.fork();
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<Request>(message, REQUEST)) return;
    const reply = (a: Omit<Answer, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...a } satisfies Answer);
    };
    aggregator.clusterMetrics().then(
      (body) => reply({ body }),
      (err: Error) => reply({ error: err.message }),
    );
  });
}

/**
 * In a worker: exposes this worker's registry to the primary, and makes `/metrics` answer with
 * the aggregate of all workers (this worker's own figures if the primary does not answer in
 * `timeoutMs`, so a scrape never fails).
 */
export function joinClusterMetrics(metrics: ServingMetrics, timeoutMs = 5000): void {
  if (!cluster.isWorker || process.send === undefined) return;
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing one installs prom-client's listener that answers the primary's requests.
  new AggregatorRegistry();
  let next = 0;
  const waiting = new Map<number, (a: Answer) => void>();
  process.on('message', (m: unknown) => {
    if (!isMessage<Answer>(m, ANSWER)) return;
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  metrics.answerWith(
    () =>
      new Promise((resolve) => {
        const id = next++;
        const fallback = (): void => {
          waiting.delete(id);
          void metrics.ownText().then(resolve, () => resolve({ contentType: metrics.registry.contentType, body: '' }));
        };
        const timer = setTimeout(fallback, timeoutMs);
        waiting.set(id, (a) => {
          clearTimeout(timer);
          if (a.body === undefined) fallback();
          else resolve({ contentType: metrics.registry.contentType, body: a.body });
        });
        process.send!({ type: REQUEST, id } satisfies Request);
      }),
  );
}
