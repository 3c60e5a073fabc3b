import type { ArtifactStore, TrackingBackend } from '@trestle/core';
import { HttpClient, type RetryOptions } from './http.js';
import { RestArtifactStore } from './rest-artifact-store.js';
import { RestBackend } from './rest-backend.js';

export { HttpClient, type HttpClientOptions, type RetryOptions } from './http.js';
export { RestBackend } from './rest-backend.js';
export { RestArtifactStore } from './rest-artifact-store.js';

/** Options of {@link connectRest}. */
export interface ConnectRestOptions {
  /** The Trestle server, e.g. `http://localhost:5000` (a path prefix such as `https://host/trestle` is kept). */
  trackingUri: string;
  /** Bearer token sent with every request (the caller reads `TRESTLE_TRACKING_TOKEN`). */
  token?: string | undefined;
  /** The fetch to use; default the global one (undici). */
  fetch?: typeof fetch | undefined;
  /**
   * Retries of connection errors and 502/503/504, with exponential backoff and jitter.
   * Defaults: 8 attempts, 250 ms first delay, 8 s longest delay (about 12–24 s in all).
   */
  retry?: RetryOptions | undefined;
  /** Longest wait without progress (headers or body bytes), in ms; default 60,000. */
  timeoutMs?: number | undefined;
}

/**
 * The tracking backend and artifact store of a Trestle server, over its REST API v1: the same
 * ports as the embedded store, so `new Trestle(backend, artifacts, config)` works unchanged.
 * No I/O happens here; the first call connects. An invalid URI is `INVALID_ARGUMENT` at once.
 *
 * @example
 * const { backend, artifacts } = connectRest({ trackingUri: 'http://localhost:5000', token });
 * const trestle = new Trestle(backend, artifacts, config);
 */
export function connectRest(options: ConnectRestOptions): { backend: TrackingBackend; artifacts: ArtifactStore } {
  const http = new HttpClient(options);
  return { backend: new RestBackend(http), artifacts: new RestArtifactStore(http) };
}
