/**
 * A small synthetic classification table with a known signal, for tests and examples
 * (not exported from the package index).
 */
export function syntheticCsv(rows: number, seed = 7): string {
  let s = seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
