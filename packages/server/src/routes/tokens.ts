import {
  CreatedToken,
  CreateTokenBody,
  doneResponses,
  errorResponses,
  TokenIdParams,
  TokenList,
} from '@trestle/core/rest';
import type { RoutePlugin } from '../route-types.js';

const tags = ['tokens'];

/**
 * API tokens, for admins: create (the secret is in the answer, and nowhere else ever again),
 * list and revoke. Mounted under `/api/v1` only when the server runs with access control.
 */
export const tokenRoutes: RoutePlugin = (app, { stores }, done) => {
  const tokens = stores.metadata.tokens;

  app.post(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'Create an API token',
        description: 'The answer holds the secret; it is stored hashed and cannot be shown again.',
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await tokens.createToken(request.body)),
  );

  app.get(
    '/tokens',
    {
      schema: {
        tags,
        summary: 'List API tokens (revoked ones included)',
        response: { 200: TokenList, ...errorResponses },
      },
    },
    async () => ({ items: await tokens.listTokens() }),
  );

  app.delete(
    '/tokens/:tokenId',
    {
      schema: {
        tags,
        summary: 'Revoke an API token',
        description: 'Its secret stops working at once. NOT_FOUND when there is no such token.',
        params: TokenIdParams,
        response: doneResponses,
      },
    },
    async (request, reply) => {
      await tokens.revokeToken(request.params.tokenId);
      return reply.status(204).send(null);
    },
  );

  done();
};
