import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Header that carries the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';

// Ids end up in logs and response headers: accept only short, plain tokens from clients.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id of a request: the caller's `x-request-id` when it is a plain token (letters, digits,
 * `._:-`, at most 128 characters), so that one id follows a request through proxies and
 * services; otherwise a new UUID.
 *
 * @example requestId({ headers: { 'x-request-id': 'abc-123' } }) // 'abc-123'
 */
export function requestId(req: Pick<IncomingMessage, 'headers'>): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
}
