import type { MetadataStore } from '@trestle/core';
import type { Command, CommandContext, CommandGroup } from '../framework/command.js';
import { withMetadataStore } from '../session.js';

const withMetadata = <T>(ctx: CommandContext, fn: (store: MetadataStore) => Promise<T>, create = false): Promise<T> =>
  withMetadataStore(ctx, fn, { migrate: false, create });

const upgrade: Command = {
  name: 'upgrade',
  summary: 'Apply pending schema migrations to the metadata store',
  options: {},
  positionals: { max: 0 },
  run: (ctx) =>
    withMetadata(
      ctx,
      async (store) => {
        const applied = await store.migrate();
        ctx.out.result({ applied }, () =>
          applied.length === 0
            ? `Schema of ${ctx.config.db} is up to date.`
            : `Applied ${applied.length} migration(s): ${applied.join(', ')}`,
        );
      },
      true,
    ),
};

const status: Command = {
  name: 'status',
  summary: 'Show applied and pending schema migrations',
  options: {},
  positionals: { max: 0 },
  run: (ctx) =>
    withMetadata(ctx, async (store) => {
      const s = await store.migrationStatus();
      ctx.out.result(s, () =>
        [`applied: ${s.applied.join(', ') || '-'}`, `pending: ${s.pending.join(', ') || '-'}`].join('\n'),
      );
    }),
};

export const db: CommandGroup = {
  name: 'db',
  summary: 'Manage the metadata store schema',
  commands: [upgrade, status],
};
