import { TrestleError } from './errors.js';

/**
 * Name of the folder (or key prefix) at the store root where adapters keep their own
 * records, such as recorded checksums. It is hidden from listings and refused as a path.
 *
 * @example
 * `${root}/${ARTIFACT_META_DIR}/sha256/models/m.onnx` // the checksum of models/m.onnx
 */
export const ARTIFACT_META_DIR = '.trestle-meta';

/**
 * Name of an in-progress write next to its target: `.model.onnx.tmp-0123456789abcdef`.
 * Such names are hidden from listings and refused as paths so that they never collide.
 */
const TEMP_NAME = /^\..*\.tmp-[0-9a-f]{16}$/;

// Each round strips one level of encoding, so `%252e` needs two; a path cannot nest more
// levels than it has characters, and the loop stops as soon as a round changes nothing.
function decodeFully(value: string): string {
  let current = value;
  for (;;) {
    // Byte-wise decoding is enough: every character we refuse (`.`, `/`, `\`, `:`, controls) is ASCII.
    const next = current.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    if (next === current) return current;
    current = next;
  }
}

/** Options of {@link normalizeArtifactPath}. */
export interface NormalizeArtifactPathOptions {
  /** Accept a path that normalises to `''` (the store root), as `list` and `delete` do. Default `false`. */
  allowRoot?: boolean;
}

/**
 * Checks an artifact path and returns its normal form: relative, `/`-separated, with empty
 * and `.` segments dropped. Anything that could reach outside the store root, or that an
 * adapter reserves for itself, is refused with `INVALID_ARGUMENT`: `..` segments, absolute
 * paths (`/x`, `C:\x`), backslashes, control characters such as NUL, percent-encoded
 * variants of those (`%2e%2e`, `%2f`, `%5c`, also double-encoded as `%252e`), the reserved
 * {@link ARTIFACT_META_DIR} folder and temporary-file names. Every adapter uses this one
 * function (the folder, S3, the server's routes and the REST client), so a path means the
 * same thing wherever it is stored or sent.
 *
 * @example
 * normalizeArtifactPath('models//v1/./model.onnx'); // 'models/v1/model.onnx'
 * normalizeArtifactPath('', { allowRoot: true });    // '' (the root, for list/delete)
 * normalizeArtifactPath('../etc/passwd');            // throws TrestleError INVALID_ARGUMENT
 */
export function normalizeArtifactPath(path: string, options: NormalizeArtifactPathOptions = {}): string {
  if (typeof path !== 'string') {
    throw new TrestleError('INVALID_ARGUMENT', `artifact path must be a string, got ${typeof path}`, {
      path: String(path),
    });
  }
  const refuse = (why: string): never => {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `invalid artifact path ${JSON.stringify(path)}: ${why}; use a relative path with '/' separators inside the store, such as 'models/model.onnx'`,
      { path },
    );
  };

  const decoded = decodeFully(path);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
  if (/[\u0000-\u001f\u007f]/.test(decoded)) refuse('control characters (such as NUL) are not allowed');
  if (decoded.includes('\\')) refuse('backslashes are not allowed');
  if (decoded.startsWith('/')) refuse('absolute paths are not allowed');
  if (/^[A-Za-z]:/.test(decoded)) refuse('drive-letter paths are not allowed');

  const rawSegments = path.split('/');
  const decodedSegments = decoded.split('/');
  if (rawSegments.length !== decodedSegments.length) refuse("percent-encoded '/' is not allowed");

  const kept: string[] = [];
  rawSegments.forEach((raw, index) => {
    const plain = decodedSegments[index] ?? raw;
    if (plain === '..') refuse("'..' segments are not allowed");
    if (plain === '.' && raw !== '.') refuse("percent-encoded '.' segments are not allowed");
    if (raw === '' || raw === '.') return;
    if (TEMP_NAME.test(plain)) refuse(`'${raw}' is reserved for in-progress writes`);
    kept.push(raw);
  });

  if (kept[0] !== undefined && decodeFully(kept[0]).toLowerCase() === ARTIFACT_META_DIR) {
    refuse(`'${ARTIFACT_META_DIR}' is reserved for the store's own records`);
  }
  const normal = kept.join('/');
  if (normal === '' && options.allowRoot !== true) refuse('the path names the store root, not a file');
  return normal;
}

/**
 * Whether `name` (one path segment) is an adapter's in-progress write, to hide from listings.
 *
 * @example
 * isTempArtifactName('.model.onnx.tmp-0123456789abcdef'); // true
 */
export function isTempArtifactName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * The temporary name an in-progress write of `name` uses next to its target; `random` is 16 hex digits.
 *
 * @example
 * tempArtifactName('model.onnx', '0123456789abcdef'); // '.model.onnx.tmp-0123456789abcdef'
 */
export function tempArtifactName(name: string, random: string): string {
  return `.${name}.tmp-${random}`;
}

/**
 * Sort order of listings in every adapter: by path, comparing UTF-16 code units, so the
 * local folder and S3 list the same entries in the same order. On S3 a file and a
 * directory may share a name (`a` and `a/b`); the directory comes first.
 *
 * @example
 * entries.sort(byArtifactPath);
 */
export function byArtifactPath(a: { path: string; isDir: boolean }, b: { path: string; isDir: boolean }): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return Number(b.isDir) - Number(a.isDir);
}
