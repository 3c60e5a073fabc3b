import type { ArtifactStore, RegistryStore, TrackingBackend } from '@trestle/core';
import { HttpClient, type HttpClientOptions } from './http.js';
import { RestArtifactStore, RestRunArtifactStore } from './rest-artifact-store.js';
import { RestBackend } from './rest-backend.js';
import { RestLoggedModels } from './rest-logged-models.js';
import { RestRegistry } from './rest-registry.js';

export { HttpClient, type HttpClientOptions, type RetryOptions } from './http.js';
export { RestBackend } from './rest-backend.js';
export { RestArtifactStore, RestRunArtifactStore } from './rest-artifact-store.js';
export { RestRegistry } from './rest-registry.js';
export { RestLoggedModels } from './rest-logged-models.js';

/**
 * Options of {@link connectRest}: those of the HTTP transport. Retries: 8 attempts, 250 ms first
 * delay, 8 s longest (about 12–24 s in all); idle timeout 60 s; idempotency keys on.
 */
export type ConnectRestOptions = HttpClientOptions;

/**
 * The tracking backend and artifact store of a Trestle server, over its REST API v1: the same
 * ports as the embedded store, so `new Trestle(backend, artifacts, config)` works unchanged.
 * No I/O happens here; the first call connects. An invalid URI is `INVALID_ARGUMENT` at once.
 *
 * @example
 * const { backend, artifacts } = connectRest({ trackingUri: 'http://localhost:5000', token });
 * const trestle = new Trestle(backend, artifacts, config);
 * const files = connectRest({ trackingUri }).runArtifacts(runId); // paths relative to the run's artifact folder
 */
export function connectRest(options: ConnectRestOptions): {
  backend: TrackingBackend;
  artifacts: ArtifactStore;
  registry: RegistryStore;
  loggedModels: RestLoggedModels;
  /** The artifacts of one run, paths relative to its artifact folder (`model/weights.bin`). */
  runArtifacts: (runId: string) => ArtifactStore;
} {
  const http = new HttpClient(options);
  return {
    backend: new RestBackend(http),
    artifacts: new RestArtifactStore(http),
    registry: new RestRegistry(http),
    loggedModels: new RestLoggedModels(http),
    runArtifacts: (runId) => new RestRunArtifactStore(http, runId),
  };
}
