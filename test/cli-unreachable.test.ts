import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

describe('an unreachable server', () => {
  it('is reported by the CLI within 3 s, exit 1, saying what to check', async () => {
    const started = Date.now();
    const r = await runCli(['runs', 'list'], {
      TRESTLE_TRACKING_URI: 'http://127.0.0.1:9',
      TRESTLE_HOME: '/nonexistent',
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach the Trestle server at http:\/\/127\.0\.0\.1:9.*is 'trestle server' running\?/,
    );
  });
});
