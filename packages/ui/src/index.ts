/**
 * The Trestle web UI as the server and the CLI see it: where the built app lives, whether it
 * has been built, and how to build it. The app itself (React + Vite, under `web/`) talks only
 * to REST API v1; `npm install` builds it into `dist/` (never committed).
 *
 * @example
 * const state = uiBuildState();
 * if (!state.built) console.log(state.howToBuild);
 */
export { UI_DIST_DIR, UI_PACKAGE_DIR, uiBuildState, uiBuildIsCurrent, buildUi, type UiBuildState } from './build.js';
