/**
 * A real model package for the build tests: `@trestle/models` trains a logistic regression on a
 * small seeded table and writes the package (not exported from the package index).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@trestle/core';
import { trainModel, writeModelPackage } from '@trestle/models';

/** Rows the tests send (one with an origin the model never saw). */
export const TEST_ROWS = [
  { distance: 1200, hour: 18, origin: 'ORD' },
  { distance: 300, hour: 6, origin: 'SFO' },
  { distance: 2100, hour: 23, origin: 'BOS' },
  { distance: 700, hour: 12, origin: 'SEA' },
];

/** Writes a package into a new temporary folder named `name`. */
export async function writeTestPackage(name = 'flights-delay', seed = 5): Promise<string> {
  const random = seededRandom(seed);
  const cities = ['SFO', 'LAX', 'ORD', 'JFK', 'SEA'];
  const n = 2000;
  const distance = new Float64Array(n);
  const hour = new Float64Array(n);
  const codes = new Int32Array(n);
  const delayed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    distance[i] = Math.round(100 + random() * 2000);
    hour[i] = Math.floor(random() * 24);
    codes[i] = Math.floor(random() * cities.length);
    const z = -1 + distance[i]! / 1000 + (hour[i]! >= 17 ? 1 : 0) + (cities[codes[i]!] === 'ORD' ? 1 : 0);
    delayed[i] = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  const table = {
    rows: n,
    columns: {
      distance: { type: 'double', values: distance },
      hour: { type: 'long', values: hour },
      origin: { type: 'string', codes, dictionary: cities },
      delayed: { type: 'long', values: delayed },
    },
  };
  const trained = trainModel(table as never, undefined, { trainer: 'logistic', target: 'delayed' });
  const dir = join(await mkdtemp(join(tmpdir(), 'deploy-pkg-')), name);
  await writeModelPackage(dir, trained.contents);
  return dir;
}
