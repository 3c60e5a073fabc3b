/**
 * Monitoring fixtures for CLI tests: a real local HTTP receiver for alert sinks, and hourly
 * windows of `flights@champion` (version 1) in an embedded store whose distance drifts from the
 * second hour on.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openMetadataStore } from '../../packages/store/src/index.js';
import { MonitorService } from '../../packages/server/src/index.js';
import { buildReferenceProfile, normals, rng, WindowAccumulator } from '../../packages/monitoring/src/index.js';

const HOUR = 3_600_000;

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real local HTTP receiver: records every POST, answers 204. */
export async function receiver(): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, server };
}

/** Seeds `hours` hourly windows of flights@champion whose distance drifts from the second on. */
export async function seed(home: string, from: number, hours: number): Promise<void> {
  const store = await openMetadataStore(join(home, 'trestle.db'), { artifactRoot: join(home, 'artifacts') });
  const random = rng(7);
  const distance = normals(random, 3000, 800, 300);
  const profile = buildReferenceProfile(
    { distance },
    { prediction: { task: 'binary-classification', outputs: { probability: distance.map((d) => d / 2000) } } },
  );
  const service = new MonitorService({ store: store.monitoring });
  await service.setReference('flights', '1', profile);
  for (let w = from; w < from + hours; w++) {
    const acc = new WindowAccumulator(profile);
    for (const d of normals(random, 1500, w === 0 ? 800 : 1600, 300))
      acc.add({ distance: d }, { probability: d / 2000 });
    const start = Date.UTC(2026, 1, 1) + w * HOUR;
    await store.monitoring.recordWindow(
      { name: 'flights', version: '1', alias: 'champion' },
      start,
      start + HOUR,
      JSON.stringify(acc.snapshot()),
    );
  }
  await store.close();
}
