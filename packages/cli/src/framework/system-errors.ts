/**
 * Node's system errors that a person can fix, said in one line that says what to do, instead
 * of Node's own text (`listen EADDRINUSE: address already in use 127.0.0.1:5000`).
 */

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
}

/**
 * The one-line message for a system error the user can act on, or `undefined` for any other error.
 *
 * @example
 * systemErrorMessage(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 5000 }))
 * // "port 5000 on 127.0.0.1 is already in use (another trestle server?): stop that process, or pick another port with --port (0 picks a free one)"
 */
export function systemErrorMessage(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, syscall, address, port } = err as SystemError;
  if (syscall !== 'listen' && syscall !== 'bind') return undefined;
  const where =
    typeof port === 'number' ? `port ${port}${typeof address === 'string' ? ` on ${address}` : ''}` : 'the address';
  switch (code) {
    case 'EADDRINUSE':
      return `${where} is already in use (another trestle server?): stop that process, or pick another port with --port (0 picks a free one)`;
    case 'EACCES':
      return `${where} needs privileges to listen on: pick a port above 1023 with --port`;
    case 'EADDRNOTAVAIL':
      return `${where}: ${typeof address === 'string' ? address : 'the host'} is not an address of this machine; use --host 127.0.0.1, or 0.0.0.0 for every interface`;
    default:
      return undefined;
  }
}
