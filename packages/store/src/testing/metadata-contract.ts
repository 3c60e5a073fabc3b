/**
 * The metadata store contract: one suite, the same assertions for every backend (SQLite,
 * PostgreSQL, and any future one): the tracking contract (tracking-contract.ts, which the REST
 * client passes too) plus what only a store has (API tokens, two instances on one database).
 * A backend's test file runs it in one line:
 *
 * @example
 * metadataStoreContract('sqlite', async () => {
 *   const store = await openMetadataStore(join(tmp, 'trestle.db'));
 *   return { store, cleanup: () => store.close() };
 * });
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Experiment, MetadataStore, Role, Run, TokenStore } from '@trestle/core';
import { expectCode, metric, trackingTests, uid } from './tracking-contract.js';

/** What a backend's factory hands the suite. */
export interface MetadataContractSubject {
  store: MetadataStore;
  /** Closes the store and removes what the factory created. */
  cleanup: () => Promise<void>;
  /**
   * Opens a second store instance on the same database (for backends with concurrent
   * writers); the suite closes it. Absent: the two-instance test is skipped.
   */
  openAnother?: () => Promise<MetadataStore>;
}

/** Registers the contract suite for one backend. */
export function metadataStoreContract(name: string, factory: () => Promise<MetadataContractSubject>): void {
  describe(`metadata store contract: ${name}`, () => {
    let subject: MetadataContractSubject | undefined;
    const store = (): MetadataStore => {
      if (subject === undefined) throw new Error('the store factory failed; see the beforeAll error');
      return subject.store;
    };
    const experiment = (prefix = 'exp', tags?: { key: string; value: string }[]): Promise<Experiment> =>
      store().createExperiment({ name: `${prefix}-${uid()}`, ...(tags === undefined ? {} : { tags }) });
    const runIn = (exp: Experiment, extra: { runName?: string; startTime?: number } = {}): Promise<Run> =>
      store().createRun({ experimentId: exp.experimentId, ...extra });

    beforeAll(async () => {
      subject = await factory();
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    trackingTests(store);

    describe('api tokens', () => {
      const tokens = (): TokenStore => store().tokens;

      it('creates a token whose secret is returned once and verifies to its info', async () => {
        const before = Date.now();
        const { token, info } = await tokens().createToken({ name: 'ci', role: 'editor' });
        expect(token).toMatch(/^trestle_[A-Za-z0-9_-]{43}$/);
        expect(info).toMatchObject({ name: 'ci', role: 'editor', lastUsedTime: null, revokedTime: null });
        expect(info.tokenId).toMatch(/^[0-9a-f]{16}$/);
        expect(token.startsWith(info.prefix)).toBe(true);
        expect(info.prefix.length).toBeLessThan(token.length / 3);
        expect(info.createdTime).toBeGreaterThanOrEqual(before - 1000);
        expect(JSON.stringify(info)).not.toContain(token.slice(info.prefix.length));

        const verified = await tokens().verifyToken(token);
        expect(verified).toMatchObject({ tokenId: info.tokenId, name: 'ci', role: 'editor', revokedTime: null });
        expect(verified?.lastUsedTime).toBeGreaterThanOrEqual(info.createdTime);
        const listed = (await tokens().listTokens()).find((t) => t.tokenId === info.tokenId);
        expect(listed).toMatchObject({ ...info, lastUsedTime: verified?.lastUsedTime });
        expect(JSON.stringify(await tokens().listTokens())).not.toContain(token);
      });

      it('gives every token its own id and secret, and lists them oldest first', async () => {
        const a = await tokens().createToken({ name: `a-${uid()}`, role: 'reader' });
        await new Promise((r) => setTimeout(r, 3));
        const b = await tokens().createToken({ name: `b-${uid()}`, role: 'reader' });
        expect(a.token).not.toBe(b.token);
        expect(a.info.tokenId).not.toBe(b.info.tokenId);
        expect((await tokens().verifyToken(b.token))?.tokenId).toBe(b.info.tokenId);
        const ids = (await tokens().listTokens()).map((t) => t.tokenId);
        expect(ids.indexOf(a.info.tokenId)).toBeGreaterThanOrEqual(0);
        expect(ids.indexOf(a.info.tokenId)).toBeLessThan(ids.indexOf(b.info.tokenId));
      });

      it('does not verify unknown, altered or malformed secrets', async () => {
        const { token } = await tokens().createToken({ name: 'real', role: 'admin' });
        const last = token.at(-1) === 'A' ? 'B' : 'A';
        for (const secret of [
          `${token.slice(0, -1)}${last}`,
          `trestle_${randomBytes(32).toString('base64url')}`,
          token.slice(0, 20),
          `${token} `,
          token.toUpperCase(),
          'trestle_',
          '',
        ]) {
          expect(await tokens().verifyToken(secret), JSON.stringify(secret)).toBeUndefined();
        }
      });

      it('revokes: the secret stops verifying at once, the token stays listed, revoking again changes nothing', async () => {
        const { token, info } = await tokens().createToken({ name: 'leaked', role: 'editor' });
        expect(await tokens().verifyToken(token)).toBeDefined();
        await tokens().revokeToken(info.tokenId);
        expect(await tokens().verifyToken(token)).toBeUndefined();
        const revoked = (await tokens().listTokens()).find((t) => t.tokenId === info.tokenId);
        expect(revoked?.revokedTime).toEqual(expect.any(Number));
        await tokens().revokeToken(info.tokenId);
        expect((await tokens().listTokens()).find((t) => t.tokenId === info.tokenId)?.revokedTime).toBe(
          revoked?.revokedTime,
        );
        expect(await tokens().verifyToken(token)).toBeUndefined();
        await expectCode(tokens().revokeToken('0123456789abcdef'), 'NOT_FOUND', /trestle tokens list/);
      });

      it('counts valid admin tokens only', async () => {
        const before = await tokens().countAdmins();
        const admin = await tokens().createToken({ name: 'admin', role: 'admin' });
        await tokens().createToken({ name: 'editor', role: 'editor' });
        await tokens().createToken({ name: 'reader', role: 'reader' });
        expect(await tokens().countAdmins()).toBe(before + 1);
        await tokens().revokeToken(admin.info.tokenId);
        expect(await tokens().countAdmins()).toBe(before);
      });

      it('refuses an empty name and an unknown role', async () => {
        await expectCode(tokens().createToken({ name: '', role: 'reader' }), 'INVALID_ARGUMENT', /name/);
        await expectCode(tokens().createToken({ name: '   ', role: 'reader' }), 'INVALID_ARGUMENT', /name/);
        await expectCode(tokens().createToken({ name: 'x'.repeat(201), role: 'reader' }), 'INVALID_ARGUMENT', /name/);
        await expectCode(
          tokens().createToken({ name: 'x', role: 'owner' as Role }),
          'INVALID_ARGUMENT',
          /reader, editor, admin/,
        );
      });

      it('verifies a token on a second store instance, and sees its revocation there', async (ctx) => {
        if (subject?.openAnother === undefined) {
          ctx.skip('this backend cannot open a second instance on the same database');
          return;
        }
        const other = await subject.openAnother();
        try {
          const { token, info } = await tokens().createToken({ name: 'shared', role: 'reader' });
          expect((await other.tokens.verifyToken(token))?.tokenId).toBe(info.tokenId);
          await other.tokens.revokeToken(info.tokenId);
          expect(await tokens().verifyToken(token)).toBeUndefined();
        } finally {
          await other.close();
        }
      });
    });

    describe('concurrency', () => {
      it('lands 20 concurrent logBatch calls to one run', async () => {
        const run = await runIn(await experiment('concurrent'));
        const id = run.info.runId;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store().logBatch(id, {
              metrics: Array.from({ length: 50 }, (_, j) => metric('loss', i * 50 + j, i * 50 + j)),
              params: [
                { key: `p${i}`, value: String(i) },
                { key: 'shared', value: 'same' },
              ],
              tags: [{ key: `t${i}`, value: String(i) }],
            }),
          ),
        );
        const history = await store().getMetricHistory(id, 'loss');
        expect(history.items).toHaveLength(1000);
        expect(history.items.map((m) => m.step)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
        const data = (await store().getRun(id)).data;
        expect(data.metrics).toEqual([metric('loss', 999, 999)]);
        expect(data.params).toHaveLength(21);
        expect(data.tags.filter((t) => /^t\d+$/.test(t.key))).toHaveLength(20);
        const sampled = await store().getMetricHistoryDownsampled(id, 'loss', { points: 2000 });
        expect(sampled).toHaveLength(1000);
      });

      it('lands concurrent writes from two store instances', async (ctx) => {
        // One writer at a time per SQLite file: the other instance waits for the lock asynchronously.
        if (subject?.openAnother === undefined) {
          ctx.skip('this backend cannot open a second instance on the same database');
          return;
        }
        const other = await subject.openAnother();
        try {
          const run = await runIn(await experiment('two-instances'));
          const id = run.info.runId;
          await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 === 0 ? store() : other).logBatch(id, {
                metrics: Array.from({ length: 100 }, (_, j) => metric('acc', j, i * 100 + j)),
                params: [{ key: `p${i}`, value: 'v' }],
              }),
            ),
          );
          expect((await other.getMetricHistory(id, 'acc')).items).toHaveLength(1000);
          expect((await store().getRun(id)).data.metrics).toEqual([metric('acc', 99, 999)]);
          expect((await other.getRun(id)).data.params).toHaveLength(10);
        } finally {
          await other.close();
        }
      });
    });
  });
}
