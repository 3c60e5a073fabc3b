import { isRole, ROLES, type MetadataStore, type Role } from '@trestle/core';
import { UsageError, type Command, type CommandContext, type CommandGroup } from '../framework/command.js';
import { formatTime, table } from '../framework/output.js';
import { withMetadataStore, type StoreUse } from '../session.js';

// Token management is an admin's local operation: it works on the metadata store itself
// (--db / TRESTLE_DB), like `trestle db`, never through a server.
const withMetadata = <T>(
  ctx: CommandContext,
  fn: (store: MetadataStore) => Promise<T>,
  use: StoreUse = {},
): Promise<T> => withMetadataStore(ctx, fn, use);

/** Parses `--role`: one of reader, editor, admin. */
export function parseRole(value: unknown): Role {
  if (value === undefined) throw new UsageError(`--role is required: one of ${ROLES.join(', ')}`);
  if (!isRole(value)) {
    throw new UsageError(
      `--role expects one of ${ROLES.join(', ')}, got '${typeof value === 'string' ? value : JSON.stringify(value)}'`,
    );
  }
  return value;
}

const STORE_NOTE = 'Works on the metadata store of this configuration (--db or TRESTLE_DB), not through a server.';

const create: Command = {
  name: 'create',
  summary: 'Create an API token and print its secret (once)',
  description: [
    'Roles: reader (read everything), editor (also write: experiments, runs, metrics, artifacts),',
    'admin (also manage tokens). The secret is stored hashed: it is printed now and never again.',
    STORE_NOTE,
  ].join('\n'),
  options: {
    name: { type: 'string', valueName: 'NAME', description: "what the token is for, e.g. 'ci' (required)" },
    role: { type: 'string', valueName: 'ROLE', description: `one of ${ROLES.join(', ')} (required)` },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const name = ctx.values['name'];
    if (typeof name !== 'string' || name.trim() === '')
      throw new UsageError("--name is required: what the token is for, e.g. 'ci'");
    const role = parseRole(ctx.values['role']);
    const { token, info } = await withMetadata(ctx, (store) => store.tokens.createToken({ name, role }), {
      create: true,
    });
    ctx.out.result({ token, info }, () =>
      [
        `Created ${info.role} token ${info.tokenId} ('${info.name}'). Its secret, shown this once (store it now):`,
        '',
        `  ${token}`,
        '',
        'Use it with:',
        `  export TRESTLE_TRACKING_TOKEN=${token}   # Trestle SDK and CLI`,
        `  export MLFLOW_TRACKING_TOKEN=${token}    # MLflow clients`,
      ].join('\n'),
    );
  },
};

const list: Command = {
  name: 'list',
  summary: 'List API tokens (never their secrets)',
  description: STORE_NOTE,
  options: {},
  positionals: { max: 0 },
  run: async (ctx) => {
    const tokens = await withMetadata(ctx, (store) => store.tokens.listTokens());
    ctx.out.result(tokens, () =>
      tokens.length === 0
        ? "No API tokens. Create one with 'trestle tokens create --name NAME --role ROLE'."
        : table(
            ['id', 'name', 'role', 'prefix', 'created', 'last used', 'status'],
            tokens.map((t) => [
              t.tokenId,
              t.name,
              t.role,
              `${t.prefix}…`,
              formatTime(t.createdTime),
              formatTime(t.lastUsedTime),
              t.revokedTime === null ? 'active' : `revoked ${formatTime(t.revokedTime)}`,
            ]),
          ),
    );
  },
};

const revoke: Command = {
  name: 'revoke',
  summary: 'Revoke an API token: its secret stops working at once',
  usage: 'TOKEN_ID',
  description: `TOKEN_ID is the id 'trestle tokens list' shows. ${STORE_NOTE}`,
  options: {},
  positionals: { min: 1, max: 1 },
  run: async (ctx) => {
    const tokenId = ctx.positionals[0]!;
    await withMetadata(ctx, (store) => store.tokens.revokeToken(tokenId));
    ctx.out.result({ tokenId, revoked: true }, () => `Revoked token ${tokenId}.`);
  },
};

/** `trestle tokens create|list|revoke`: API tokens for `trestle server --auth`. */
export const tokens: CommandGroup = {
  name: 'tokens',
  summary: 'Manage API tokens of a server started with --auth',
  commands: [create, list, revoke],
};
