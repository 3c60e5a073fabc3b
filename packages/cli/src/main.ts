import { readFileSync } from 'node:fs';
import { dispatch } from './framework/dispatch.js';
import { registry } from './registry.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

process.exitCode = await dispatch(process.argv.slice(2), registry, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  version,
  ownsProcess: true,
});
