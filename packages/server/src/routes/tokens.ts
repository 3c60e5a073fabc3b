import { ROLES } from '@trestle/core';
import { Type } from 'typebox';
import type { RoutePlugin } from '../route-types.js';
import { errorResponses } from '../schemas.js';

const tags = ['tokens'];
const closed = { additionalProperties: false } as const;
const EpochMs = Type.Integer({ description: 'epoch milliseconds' });

/** What is known about an API token (never its secret). */
export const ApiToken = Type.Object(
  {
    tokenId: Type.String({ description: '16 hex characters' }),
    name: Type.String(),
    role: Type.Enum([...ROLES]),
    prefix: Type.String({ description: 'the first characters of the secret, to recognise it' }),
    createdTime: EpochMs,
    lastUsedTime: Type.Union([EpochMs, Type.Null()], { description: 'to the minute; null if never used' }),
    revokedTime: Type.Union([EpochMs, Type.Null()], { description: 'null while valid' }),
  },
  closed,
);

const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: "what the token is for, e.g. 'ci'" }),
    role: Type.Enum([...ROLES], { description: 'reader: read; editor: also write; admin: also manage tokens' }),
  },
  closed,
);

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
        response: {
          201: Type.Object({ token: Type.String({ description: 'the secret, shown once' }), info: ApiToken }, closed),
          ...errorResponses,
        },
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
        response: { 200: Type.Object({ items: Type.Array(ApiToken) }, closed), ...errorResponses },
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
        params: Type.Object({ tokenId: Type.String({ minLength: 1 }) }),
        response: { 204: Type.Null({ description: 'revoked' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await tokens.revokeToken(request.params.tokenId);
      return reply.status(204).send(null);
    },
  );

  done();
};
