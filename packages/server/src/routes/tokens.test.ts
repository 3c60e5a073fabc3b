import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';

describe('token routes (/api/v1/tokens)', () => {
  let fx: ServerFixture;
  let admin: string;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    fx = await serverFixture({ auth: { enabled: true } });
    admin = (await fx.stores.metadata.tokens.createToken({ name: 'root', role: 'admin' })).token;
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('creates a token, answers its secret once, lists it without the secret, and revokes it', async () => {
    const created = await fx.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: as(admin),
      payload: { name: 'ci', role: 'editor' },
    });
    expect(created.statusCode).toBe(201);
    const { token, info } = created.json<{ token: string; info: { tokenId: string; prefix: string } }>();
    expect(token).toMatch(/^trestle_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'ci', role: 'editor', revokedTime: null, lastUsedTime: null });
    expect(token.startsWith(info.prefix)).toBe(true);

    const works = await fx.app.inject({
      method: 'POST',
      url: '/api/v1/experiments',
      headers: as(token),
      payload: { name: 'by-ci' },
    });
    expect(works.statusCode).toBe(201);

    const listed = await fx.app.inject({ url: '/api/v1/tokens', headers: as(admin) });
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(token);
    const items = listed.json<{ items: { tokenId: string; name: string; lastUsedTime: number | null }[] }>().items;
    expect(items.map((t) => t.name)).toEqual(['root', 'ci']);
    expect(items.find((t) => t.tokenId === info.tokenId)?.lastUsedTime).toEqual(expect.any(Number));

    const revoked = await fx.app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${info.tokenId}`,
      headers: as(admin),
    });
    expect(revoked.statusCode).toBe(204);
    expect((await fx.app.inject({ url: '/api/v1/experiments', headers: as(token) })).statusCode).toBe(401);
  });

  it('refuses a bad body naming the field, and an unknown token id with NOT_FOUND', async () => {
    const bad = await fx.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: as(admin),
      payload: { name: 'x', role: 'owner' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('body/role') },
    });
    const noName = await fx.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: as(admin),
      payload: { role: 'reader' },
    });
    expect(noName.json()).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('body/name is required') },
    });
    const missing = await fx.app.inject({
      method: 'DELETE',
      url: '/api/v1/tokens/0123456789abcdef',
      headers: as(admin),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringContaining('trestle tokens list') },
    });
  });
});
