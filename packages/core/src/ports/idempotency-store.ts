/** An answer kept for a request made with an `Idempotency-Key`, to be sent again for a retry of it. */
export interface StoredResponse {
  /** HTTP status, e.g. 201. */
  status: number;
  /** The response headers worth sending again, lowercase names (`content-type`, `location`). */
  headers: Record<string, string>;
  /** The response body as sent. */
  body: string;
}

/** What {@link IdempotencyStore.claim} found for a key. */
export type IdempotencyClaim =
  /** First use (or the earlier use expired or was abandoned): handle the request, then `complete` or `release`. */
  | { state: 'claimed' }
  /** The request was handled: send this answer again instead of acting twice. */
  | { state: 'replay'; response: StoredResponse }
  /** Another request with this key is being handled right now. */
  | { state: 'in-progress' }
  /** The key was used for a different request (another body): refuse. */
  | { state: 'mismatch' };

/** Input of {@link IdempotencyStore.claim}. */
export interface IdempotencyClaimInput {
  /**
   * Who sent the key, for what: a hash of the credential, the key, the method and the path,
   * so that two clients choosing the same key never see each other's answers.
   */
  scope: string;
  /** A hash of the request body: the same key with another body is a `mismatch`. */
  fingerprint: string;
  /** A record older than this (ms) is forgotten: its key may be used afresh. */
  ttlMs: number;
  /** A claim not completed within this (ms) is taken to be abandoned (its server died) and may be claimed again. */
  staleAfterMs: number;
}

/**
 * Keys of requests that must take effect once although a client may send them several times
 * (a `POST` retried after its answer was lost). The server claims a key before it handles a
 * request, keeps the answer when done, and answers a retry with the kept answer. Records live
 * in the metadata store, so every server replica sees them.
 *
 * @example
 * const claim = await store.idempotency.claim({ scope, fingerprint, ttlMs: 86_400_000, staleAfterMs: 60_000 });
 * if (claim.state === 'replay') return send(claim.response);
 * if (claim.state === 'claimed') { const res = await handle(); await store.idempotency.complete(scope, res); }
 */
export interface IdempotencyStore {
  /**
   * Claims `scope` for a request, or says what an earlier request with it left.
   *
   * @example (await idempotency.claim({ scope, fingerprint, ttlMs, staleAfterMs })).state // 'claimed' the first time
   */
  claim(input: IdempotencyClaimInput): Promise<IdempotencyClaim>;
  /**
   * Keeps the answer of a claimed request; later claims of `scope` replay it.
   *
   * @example await idempotency.complete(scope, { status: 201, headers: { 'content-type': 'application/json' }, body })
   */
  complete(scope: string, response: StoredResponse): Promise<void>;
  /**
   * Forgets a claim whose request did not take effect (it failed), so that a retry handles it afresh.
   *
   * @example await idempotency.release(scope)
   */
  release(scope: string): Promise<void>;
  /**
   * Deletes records created before `before` (epoch ms); returns how many.
   *
   * @example await idempotency.purge(Date.now() - 86_400_000)
   */
  purge(before: number): Promise<number>;
}
