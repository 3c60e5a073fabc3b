import type { ChangeContext } from '@trestle/core';
import { ACTOR_HEADER, REASON_HEADER } from '@trestle/core/rest';
import type { FastifyRequest } from 'fastify';
import { callerToken } from './auth/caller.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const raw = request.headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return undefined;
  try {
    return decodeURIComponent(value).slice(0, 2000);
  } catch {
    return value.slice(0, 2000);
  }
}

/**
 * Who makes a registry change and why, for the audit trail. With access control on, the actor
 * is the name of the caller's token (a caller cannot claim another name); without it, the
 * `X-Trestle-Actor` header (the SDK and CLI send the OS user). The reason comes from the body
 * when the route takes one, else from `X-Trestle-Reason`.
 *
 * @example await store.registry.setAlias(name, alias, 3, changeContext(request, body.reason));
 */
export function changeContext(request: FastifyRequest, reason?: string): ChangeContext {
  const actor = callerToken(request)?.name ?? header(request, ACTOR_HEADER);
  const why = reason ?? header(request, REASON_HEADER);
  return { ...(actor === undefined ? {} : { actor }), ...(why === undefined ? {} : { reason: why }) };
}
