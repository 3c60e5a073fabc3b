/** Schemas of the API token routes (`/api/v1/tokens…`, mounted with access control). */
import { Type } from 'typebox';
import { ROLES } from '../roles.js';
import { EpochMs, closed } from './common.js';

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

/** Body of `POST /tokens`. */
export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: "what the token is for, e.g. 'ci'" }),
    role: Type.Enum([...ROLES], { description: 'reader: read; editor: also write; admin: also manage tokens' }),
  },
  closed,
);

/** Answer of `POST /tokens`: the secret, shown once, and the token's info. */
export const CreatedToken = Type.Object(
  { token: Type.String({ description: 'the secret, shown once' }), info: ApiToken },
  closed,
);

/** Answer of `GET /tokens`. */
export const TokenList = Type.Object({ items: Type.Array(ApiToken) }, closed);

/** Path parameters of `/tokens/:tokenId`. */
export const TokenIdParams = Type.Object({ tokenId: Type.String({ minLength: 1 }) });
