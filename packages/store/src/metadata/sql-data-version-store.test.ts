import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@trestle/core';
import { onEachEngine, type TestStore } from './test-stores.js';

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);

function dataVersionSuite(name: string, open: () => Promise<TestStore>): void {
  describe(`data versions: ${name}`, () => {
    let store: MetadataStore;
    let fixture: TestStore | undefined;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    it('records a version once per (name, digest), fills a missing schema later, never overwrites one', async () => {
      const base = {
        name: 'data/a.csv',
        digest: D1,
        source: 'file:///r/data/a.csv',
        kind: 'file' as const,
        size: 10,
        files: 1,
      };
      const first = await store.dataVersions.recordVersion(base);
      expect(first).toMatchObject(base);
      expect(first.schema).toBeUndefined();
      const withSchema = await store.dataVersions.recordVersion({
        ...base,
        source: 'elsewhere',
        schema: '{"columns":[]}',
      });
      expect(withSchema.source).toBe('file:///r/data/a.csv');
      expect(withSchema.schema).toBe('{"columns":[]}');
      expect(withSchema.createdTime).toBe(first.createdTime);
      const again = await store.dataVersions.recordVersion({ ...base, schema: '{"other":1}' });
      expect(again.schema).toBe('{"columns":[]}');
    });

    it('lists newest first, by name, in pages; finds by digest; NOT_FOUND for an unknown version', async () => {
      await store.dataVersions.recordVersion({
        name: 'data/a.csv',
        digest: D2,
        source: 's',
        kind: 'file',
        size: 11,
        files: 1,
      });
      await store.dataVersions.recordVersion({
        name: 'imgs',
        digest: D2,
        source: 's',
        kind: 'dir',
        size: 99,
        files: 3,
      });
      const a = await store.dataVersions.listVersions({ name: 'data/a.csv' });
      expect(a.items.map((v) => v.digest).sort()).toEqual([D1, D2]);
      const page1 = await store.dataVersions.listVersions({ maxResults: 2 });
      expect(page1.items).toHaveLength(2);
      const page2 = await store.dataVersions.listVersions({ maxResults: 2, pageToken: page1.nextPageToken! });
      expect(page2.items).toHaveLength(1);
      expect(page2.nextPageToken).toBeUndefined();
      expect((await store.dataVersions.findByDigest(D2)).map((v) => v.name).sort()).toEqual(['data/a.csv', 'imgs']);
      await expect(store.dataVersions.getVersion('imgs', D1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('refuses a bad digest or an empty name', async () => {
      await expect(
        store.dataVersions.recordVersion({ name: 'x', digest: 'nope', source: 's', kind: 'file', size: 1, files: 1 }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(
        store.dataVersions.recordVersion({ name: ' ', digest: D1, source: 's', kind: 'file', size: 1, files: 1 }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}

await onEachEngine('data-version tests', dataVersionSuite);
