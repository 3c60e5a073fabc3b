import { TrestleError } from '@trestle/core';

/** A parsed `models:/` URI. */
export interface ModelUriRef {
  name: string;
  version?: number;
  alias?: string;
  /** `models:/<name>/latest`. */
  latest?: true;
}

/**
 * Parses `models:/<name>/<version>`, `models:/<name>@<alias>` and `models:/<name>/latest`
 * (MLflow's forms). `INVALID_ARGUMENT` for anything else.
 *
 * @example parseModelUri('models:/fraud@champion') // { name: 'fraud', alias: 'champion' }
 * @example parseModelUri('models:/fraud/3')        // { name: 'fraud', version: 3 }
 */
export function parseModelUri(uri: string): ModelUriRef {
  const m = /^models:\/(?!\/)(.+)$/.exec(uri);
  const bad = (): never => {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `'${uri}' is not a model URI; write models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/latest`,
      { uri },
    );
  };
  if (m === null) return bad();
  const rest = m[1]!;
  const slash = rest.lastIndexOf('/');
  if (slash > 0) {
    const name = decodeURIComponent(rest.slice(0, slash));
    const tail = rest.slice(slash + 1);
    if (tail === 'latest') return { name, latest: true };
    if (/^\d{1,15}$/.test(tail) && Number(tail) >= 1) return { name, version: Number(tail) };
    return bad();
  }
  const at = rest.lastIndexOf('@');
  if (at > 0 && at < rest.length - 1) return { name: decodeURIComponent(rest.slice(0, at)), alias: rest.slice(at + 1) };
  return bad();
}
