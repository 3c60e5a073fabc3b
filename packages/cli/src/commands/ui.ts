import type { Command } from '../framework/command.js';
import { parseHost, parsePort } from './server.js';

/**
 * `trestle ui`: the web UI on this configuration's stores (the embedded local store by
 * default). Starts a server like `trestle server` and prints the URL to open; opens no browser
 * by itself. Builds the UI first when it has not been built yet.
 *
 * @example
 * trestle ui --port 5000     # then open http://127.0.0.1:5000/
 */
export const ui: Command = {
  name: 'ui',
  summary: 'Serve the web UI (experiments, runs, charts, compare) on the local store',
  description: [
    'Starts a Trestle server on this configuration (the local store in .trestle by default) and prints',
    'the URL of its web UI; open it in a browser. Builds the UI on first start if npm install did not.',
    'Listens on 127.0.0.1 by default. With --auth the UI asks for an API token (kept for the browser tab).',
  ].join('\n'),
  options: {
    host: { type: 'string', valueName: 'HOST', description: 'interface to listen on (default 127.0.0.1)' },
    port: { type: 'string', valueName: 'PORT', description: 'TCP port (default 5000; 0 picks a free one)' },
    auth: { type: 'boolean', description: 'require API tokens (the UI asks for one)' },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const host = parseHost(ctx.values['host']);
    const port = parsePort(ctx.values['port']);
    const auth = ctx.values['auth'] === true;
    const { uiBuildIsCurrent, buildUi } = await import('@trestle/ui');
    if (!uiBuildIsCurrent()) {
      ctx.out.info('Building the web UI (first start, or its sources changed; about 10 s)…');
      const started = Date.now();
      await buildUi();
      ctx.out.info(`Built the web UI in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    }
    const { startServer } = await import('@trestle/server');
    const running = await startServer({ config: ctx.config, host, port, auth, logger: false });
    const url = `${running.url}/`;
    const { bootstrapToken } = running;
    ctx.out.result(
      { url, api: `${running.url}/api/v1`, auth, ...(bootstrapToken === undefined ? {} : { bootstrapToken }) },
      () =>
        [
          `Trestle UI: ${url}`,
          `  metadata      ${ctx.config.db}`,
          `  artifacts     ${ctx.config.artifacts}`,
          ...(auth
            ? [
                '  access        the UI asks for an API token (make one: trestle tokens create --name NAME --role reader)',
              ]
            : []),
          ...(bootstrapToken === undefined
            ? []
            : [
                '',
                'There was no admin token, so one was created (bootstrap-admin). Store it now: it is not shown again.',
                '',
                `  ${bootstrapToken}`,
              ]),
          '',
          'Press Ctrl-C to stop.',
        ].join('\n'),
    );
    await running.closed;
    ctx.out.info('UI server stopped.');
  },
};
