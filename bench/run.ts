/**
 * Runs one benchmark: `npm run bench -- NAME` → `tsx bench/run.ts NAME` → `bench/NAME.ts`.
 * A benchmark module runs when imported, or exports `run()` (called here). A bad or missing
 * name lists the available benchmarks.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();
const name = process.argv[2];

if (name === undefined || !available.includes(name)) {
  console.error(
    `${name === undefined ? 'no benchmark named' : `unknown benchmark '${name}'`}; usage: npm run bench -- NAME\n` +
      `available: ${available.length === 0 ? '(none)' : available.join(', ')}`,
  );
  process.exitCode = 2;
} else {
  const mod = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as { run?: () => Promise<void> };
  if (typeof mod.run === 'function') await mod.run();
}
