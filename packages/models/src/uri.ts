import { TrestleError } from '@trestle/core';
import { fileURLToPath } from 'node:url';

/** A model URI, parsed. */
export type ModelUri =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'run'; readonly runId: string; readonly path: string }
  | { readonly kind: 'logged'; readonly modelId: string }
  | { readonly kind: 'version'; readonly name: string; readonly version: string }
  | { readonly kind: 'alias'; readonly name: string; readonly alias: string }
  | { readonly kind: 'latest'; readonly name: string };

/** A model name as written in a URI: percent-encoding (`flights%20delay`) is decoded when valid. */
function modelName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Parses `runs:/<run id>/<path>`, `models:/<name>/<version>`, `models:/<name>@<alias>`,
 * `models:/m-<32 hex>` (an MLflow 3 logged model),
 * `models:/<name>/latest` (the highest version), `file:///…` or a plain path.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for a malformed `runs:` or `models:` URI.
 * @example parseModelUri('models:/flights-delay@champion') // { kind: 'alias', name: 'flights-delay', alias: 'champion' }
 */
export function parseModelUri(uri: string): ModelUri {
  const bad = (why: string): never => {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model URI '${uri}' ${why}; use runs:/<run id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/latest or a folder`,
    );
  };
  if (uri.startsWith('runs:')) {
    const m = /^runs:\/+([0-9a-fA-F]{4,64})(?:\/(.*))?$/.exec(uri);
    if (m === null) return bad('is not a run URI');
    const path = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
    if (path.split('/').includes('..')) return bad("has '..' in its path");
    return { kind: 'run', runId: m[1]!.toLowerCase(), path };
  }
  if (uri.startsWith('models:')) {
    const rest = uri.replace(/^models:\/+/, '');
    // An MLflow 3 logged model (`models:/m-<32 hex>`), as `model-versions/create` records its source.
    const logged = /^(m-[0-9a-f]{32})\/?$/.exec(rest);
    if (logged !== null) return { kind: 'logged', modelId: logged[1]! };
    const at = rest.lastIndexOf('@');
    if (at > 0) {
      const name = rest.slice(0, at);
      const alias = rest.slice(at + 1);
      if (alias === '' || alias.includes('/')) return bad('has an empty or malformed alias');
      return { kind: 'alias', name: modelName(name), alias };
    }
    const slash = rest.lastIndexOf('/');
    if (slash <= 0) return bad('names no version');
    const name = rest.slice(0, slash);
    const version = rest.slice(slash + 1);
    if (version === 'latest') return { kind: 'latest', name: modelName(name) };
    if (!/^\d+$/.test(version)) {
      return bad(`has version '${version}', which is not a number (for an alias write models:/${name}@${version})`);
    }
    return { kind: 'version', name: modelName(name), version };
  }
  if (uri.startsWith('file:')) return { kind: 'path', path: fileURLToPath(uri) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return bad('has a scheme Trestle cannot load from');
  return { kind: 'path', path: uri };
}
