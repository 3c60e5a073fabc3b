import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/core/src/index.js';
import { openStores } from '../packages/store/src/index.js';

const root = join(import.meta.dirname, '..');

describe('SDK metric buffering at process exit', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes buffered points when the process exits normally without end() or flush()', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-exit-'));
    dirs.push(home);
    const script = join(home, 'train.mts');
    await writeFile(
      script,
      `import { Trestle } from ${JSON.stringify(join(root, 'packages/client/src/index.ts'))};
const trestle = await Trestle.connect();
const run = await trestle.startRun({ experiment: 'exit-flush', name: 'no-end' });
for (let step = 0; step < 2500; step++) void run.logMetric('loss', 1 / (step + 1), step);
console.log(run.id);
`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      cwd: root,
      env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
      encoding: 'utf8',
    });
    const runId = out.trim().split('\n').at(-1)!;
    const { metadata, artifacts } = await openStores(loadConfig({ home }, {}));
    try {
      const history = await metadata.getMetricHistory(runId, 'loss');
      expect(history.items).toHaveLength(2500);
      expect(history.items.at(-1)).toMatchObject({ step: 2499, value: 1 / 2500 });
    } finally {
      await metadata.close();
      await artifacts.close();
    }
  }, 60_000);
});
