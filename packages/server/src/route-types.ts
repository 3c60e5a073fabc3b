import type { ArtifactStore, MetadataStore } from '@trestle/core';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';

/** The stores a server works against; it owns no state of its own. */
export interface ServerStores {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
}

/** What every route plugin is registered with. */
export interface RouteOptions {
  stores: ServerStores;
}

/**
 * A route plugin of the REST API: one per resource, encapsulated, with TypeBox-typed
 * requests and replies.
 *
 * @example
 * export const healthRoutes: RoutePlugin = (app, { stores }, done) => { app.get('/health', …); done(); };
 */
export type RoutePlugin = FastifyPluginCallbackTypebox<RouteOptions>;
