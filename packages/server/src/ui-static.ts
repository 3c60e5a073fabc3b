/**
 * The web UI's files, served at `/`: `index.html` for the app's own paths (so a shared link
 * such as `/experiments/1?filter=…` opens the view it names), hashed files under `/assets/`
 * cached for good. Without a build, `/` answers a page that says how to build it instead of a
 * blank page. Everything here is public: the files hold no data, and the app asks for a token
 * before it reads any (when the server runs with `--auth`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';

/** Options of {@link uiStaticRoutes}. */
export interface UiStaticOptions {
  /** Folder of the built app (`index.html`, `assets/`). */
  dir: string;
  /** One line on how to build the app, shown when `dir` has no `index.html`. */
  howToBuild: string;
}

/** Paths of the app's pages: each answers `index.html`, and the app routes on the client. */
export const UI_PAGE_ROUTES = ['/', '/experiments/*', '/runs/*', '/compare', '/models', '/models/*'] as const;

/** Where the built app's hashed files are served from. */
export const UI_ASSETS_ROUTE = '/assets/*';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

function notBuiltPage(howToBuild: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trestle: the web UI is not built</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}code{background:#f0f2f5;padding:.1rem .3rem;border-radius:4px}</style>
</head><body><h1>The web UI is not built yet</h1>
<p>This Trestle server is running (the REST API is at <a href="/api/v1/openapi.json"><code>/api/v1</code></a>, its docs at <a href="/docs"><code>/docs</code></a>), but the files of the web UI are missing.</p>
<p>To get them, ${escapeHtml(howToBuild)}. Then reload this page.</p></body></html>`;
}

async function sendFile(reply: FastifyReply, file: string, cache: string): Promise<FastifyReply | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return undefined;
  return reply
    .header('content-type', TYPES[extname(file)] ?? 'application/octet-stream')
    .header('content-length', info.size)
    .header('cache-control', cache)
    .send(createReadStream(file));
}

/**
 * Mounts the UI: {@link UI_PAGE_ROUTES} answer `index.html` (never cached, so a new build is
 * picked up), {@link UI_ASSETS_ROUTE} the hashed files (cached a year). Register without a prefix.
 *
 * @example await app.register(uiStaticRoutes, { dir: UI_DIST_DIR, howToBuild: '…' });
 */
export const uiStaticRoutes: FastifyPluginCallback<UiStaticOptions> = (app, { dir, howToBuild }, done) => {
  const root = normalize(dir);
  const index = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> =>
    (await sendFile(reply, join(root, 'index.html'), 'no-cache')) ??
    reply.status(503).header('content-type', 'text/html; charset=utf-8').send(notBuiltPage(howToBuild));
  for (const url of UI_PAGE_ROUTES) app.get(url, { schema: { hide: true } }, index);

  app.get<{ Params: { '*': string } }>(UI_ASSETS_ROUTE, { schema: { hide: true } }, async (request, reply) => {
    const file = normalize(join(root, 'assets', request.params['*']));
    const sent = file.startsWith(join(root, 'assets') + sep)
      ? await sendFile(reply, file, 'public, max-age=31536000, immutable')
      : undefined;
    return (
      sent ??
      reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no UI file ${request.url.split('?')[0] ?? ''}` } })
    );
  });
  done();
};
