import type { ApiToken } from '@trestle/core';
import type { FastifyRequest } from 'fastify';

const callers = new WeakMap<FastifyRequest, ApiToken>();

/** Records the token a request was accepted with (called by the auth hook). */
export function rememberCaller(request: FastifyRequest, token: ApiToken): void {
  callers.set(request, token);
}

/**
 * The token a request was accepted with; `undefined` when access control is off (or the route
 * is public). The registry records its name as the actor of a change.
 *
 * @example callerToken(request)?.name // 'ci'
 */
export function callerToken(request: FastifyRequest): ApiToken | undefined {
  return callers.get(request);
}
