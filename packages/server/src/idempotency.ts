/**
 * Requests that act once however often a client sends them: a `POST` or `PATCH` to the v1 API
 * carrying `Idempotency-Key: <key>` (the SDK sends a UUID on every such request it may retry)
 * is handled the first time and its answer kept for 24 hours in the metadata store; the same
 * request again (a retry after a lost answer) gets the kept answer, marked
 * `Idempotent-Replayed: true`, instead of creating a second run. Keys are scoped by the
 * credential, the method and the path, so clients cannot see each other's answers.
 */
import { createHash } from 'node:crypto';
import { TrestleError, type IdempotencyStore } from '@trestle/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The request header naming a request (IETF draft `Idempotency-Key`). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Set on an answer sent again from the store. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** Options of {@link installIdempotency}. */
export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** How long answers are kept, ms. Default 24 hours. */
  ttlMs?: number;
  /** How long a retry waits for the first request with its key to finish, ms. Default 10 s. */
  waitMs?: number;
  /** A claim unfinished after this long (its server died) may be claimed again, ms. Default 60 s. */
  staleAfterMs?: number;
  /** Only URLs under this prefix honour keys. Default `/api/v1/`. */
  prefix?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const METHODS: ReadonlySet<string> = new Set(['POST', 'PATCH']);
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;
/** Response headers replayed with the body. */
const REPLAYED = ['content-type', 'location'] as const;
const POLL_MS = 50;
const PURGE_EVERY_MS = 60 * 60 * 1000;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

interface Claimed {
  scope: string;
  settled: boolean;
}

const claims = new WeakMap<FastifyRequest, Claimed>();

function refuse(reply: FastifyReply, status: number, err: TrestleError): FastifyReply {
  return reply.status(status).send({ error: err.toJSON() });
}

/**
 * Installs the idempotency hooks on `app` (call before the routes are registered, after
 * access control). Errors are not kept: a failed request changed nothing, so its retry is
 * handled afresh. The same key with another body is refused with 409 CONFLICT; a retry that
 * arrives while the first request is still being handled waits for its answer (up to
 * `waitMs`, then 409).
 *
 * @example
 * installIdempotency(app, { store: stores.metadata.idempotency });
 */
export function installIdempotency(app: FastifyInstance, options: IdempotencyOptions): void {
  const { store, ttlMs = DAY_MS, waitMs = 10_000, staleAfterMs = 60_000, prefix = '/api/v1/' } = options;
  let lastPurge = 0;

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined || !METHODS.has(request.method) || !request.url.startsWith(prefix)) return;
    if (typeof key !== 'string' || !KEY_SHAPE.test(key)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        'the Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is best), sent once',
      );
    }
    const now = Date.now();
    if (now - lastPurge > PURGE_EVERY_MS) {
      lastPurge = now;
      store.purge(now - ttlMs).catch((err: unknown) => request.log.warn({ err }, 'purging idempotency keys failed'));
    }
    const scope = sha256(JSON.stringify([request.headers.authorization ?? '', request.method, request.url, key]));
    const fingerprint = sha256(JSON.stringify(request.body ?? null));
    const deadline = now + waitMs;
    for (;;) {
      const claim = await store.claim({ scope, fingerprint, ttlMs, staleAfterMs });
      switch (claim.state) {
        case 'claimed':
          claims.set(request, { scope, settled: false });
          return;
        case 'replay': {
          const { status, headers, body } = claim.response;
          return reply
            .status(status)
            .headers({ ...headers, [REPLAYED_HEADER]: 'true' })
            .send(body);
        }
        case 'mismatch':
          return refuse(
            reply,
            409,
            new TrestleError(
              'CONFLICT',
              `Idempotency-Key '${key}' was already used for ${request.method} ${request.url.split('?')[0] ?? ''} with another body; send a new key with a new request`,
              { idempotencyKey: key },
            ),
          );
        case 'in-progress':
          if (Date.now() >= deadline) {
            return refuse(
              reply,
              409,
              new TrestleError(
                'CONFLICT',
                `a request with Idempotency-Key '${key}' is still being handled; retry it in a moment`,
                { idempotencyKey: key },
              ),
            );
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  });

  // Before the answer leaves: once a client could have seen it, a retry must find it kept.
  app.addHook('onSend', async (request, reply, payload) => {
    const claim = claims.get(request);
    if (claim === undefined || claim.settled) return payload;
    claim.settled = true;
    const ok = reply.statusCode >= 200 && reply.statusCode < 300;
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
    try {
      if (ok && body !== null) {
        const headers: Record<string, string> = {};
        for (const name of REPLAYED) {
          const value = reply.getHeader(name);
          if (value !== undefined) headers[name] = String(value);
        }
        await store.complete(claim.scope, { status: reply.statusCode, headers, body });
      } else {
        await store.release(claim.scope);
      }
    } catch (err) {
      request.log.error({ err }, 'could not keep the answer of a request with an Idempotency-Key');
    }
    return payload;
  });

  // A request that ended without an answer (the handler never replied) must not hold its key.
  app.addHook('onResponse', async (request) => {
    const claim = claims.get(request);
    if (claim === undefined || claim.settled) return;
    claim.settled = true;
    await store.release(claim.scope).catch(() => undefined);
  });
}
