/**
 * Another process holding a SQLite database's write lock, for tests and benchmarks of what the
 * server does while it waits (test/sqlite-lock-wait.test.ts, bench/server.ts).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Another process takes the SQLite write lock of `file` (`BEGIN IMMEDIATE` and a write), prints
 * 'locked', holds it `holdMs` and commits. Resolves once it holds the lock; `released` resolves
 * when the process has exited. May be called again on the same file once released.
 *
 * @example const { released } = await holdWriteLock(join(home, 'trestle.db'), 1500); … await released;
 */
export function holdWriteLock(file: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const script = `
const Database = require('better-sqlite3');
const db = new Database(${JSON.stringify(file)});
db.exec('BEGIN IMMEDIATE');
db.prepare("insert or replace into experiment_tags (experiment_id, key, value) values (0, 'held', 'by another process')").run();
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${holdMs});
`;
  const child = spawn(process.execPath, ['-e', script], {
    // The repository root, where `require('better-sqlite3')` resolves.
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ released }));
    child.once('error', reject);
  });
}
