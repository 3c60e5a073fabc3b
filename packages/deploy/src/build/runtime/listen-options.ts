/** Where a bundled entrypoint listens: `TRESTLE_HOST` (default 0.0.0.0) and `TRESTLE_PORT` (default 8080). */
export function listenOptions(
  env: Record<string, string | undefined>,
  defaultPort = 8080,
): { host: string; port: number } {
  const host = env['TRESTLE_HOST'] || '0.0.0.0';
  const text = env['TRESTLE_PORT'] || String(defaultPort);
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new Error(`TRESTLE_PORT must be a port from 0 to 65535, got '${text}'`);
  return { host, port };
}
