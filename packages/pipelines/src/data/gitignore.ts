import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Adds `/name` to the `.gitignore` of `dir` unless a line already ignores exactly it, so that
 * git tracks the pointer file and not the data. Returns true when the file changed.
 *
 * @example await ignoreInGit('/repo/data', 'flights.parquet') // '/flights.parquet' appended to /repo/data/.gitignore
 */
export async function ignoreInGit(dir: string, name: string): Promise<boolean> {
  const file = join(dir, '.gitignore');
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  const entry = `/${name.replace(/([*?[\]\\!#])/g, '\\$1')}`;
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines.includes(entry) || lines.includes(`${entry}/`)) return false;
  await writeFile(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${entry}\n`);
  return true;
}
