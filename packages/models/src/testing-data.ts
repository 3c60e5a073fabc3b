import { seededRandom } from '@trestle/core';

/**
 * A small synthetic classification table with a known signal, for tests and examples
 * (not exported from the package index).
 */
export function syntheticCsv(rows: number, seed = 7): string {
  const random = seededRandom(seed);
  const cities = ['SFO', 'LAX', 'ORD', 'JFK', 'SEA'];
  const lines = ['distance,hour,origin,delayed'];
  for (let i = 0; i < rows; i++) {
    const distance = Math.round(100 + random() * 2000);
    const hour = Math.floor(random() * 24);
    const origin = cities[Math.floor(random() * cities.length)]!;
    const z = -1 + distance / 1000 + (hour >= 17 ? 1 : 0) + (origin === 'ORD' ? 1 : origin === 'SEA' ? -1 : 0);
    const delayed = random() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    // A few missing values, as real data has.
    lines.push(`${i % 97 === 5 ? '' : distance},${hour},${i % 89 === 3 ? '' : origin},${delayed}`);
  }
  return `${lines.join('\n')}\n`;
}
