import { TrestleError, type ErrorCode } from '@trestle/core';

/**
 * The `code` of a Node.js file-system error (`'ENOENT'`, `'EACCES'`…), or `undefined`.
 *
 * @example
 * try { await readFile(p) } catch (err) { if (fsErrorCode(err) === 'ENOENT') return undefined; throw err; }
 */
export function fsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = err.code;
  return typeof code === 'string' ? code : undefined;
}

const FS_CODES: Readonly<Record<string, { code: ErrorCode; hint: string }>> = {
  ENOENT: { code: 'NOT_FOUND', hint: 'it does not exist' },
  EACCES: { code: 'PERMISSION_DENIED', hint: 'the process may not access it; check the folder permissions' },
  EPERM: { code: 'PERMISSION_DENIED', hint: 'the operation is not permitted; check the folder permissions' },
  EROFS: { code: 'FAILED_PRECONDITION', hint: 'the file system is read-only' },
  ENOSPC: { code: 'STORAGE_FULL', hint: 'the disk is full; free some space and retry' },
  EDQUOT: { code: 'STORAGE_FULL', hint: 'the disk quota is exhausted; free some space and retry' },
  EMFILE: { code: 'UNAVAILABLE', hint: 'too many open files; retry later' },
  ENAMETOOLONG: { code: 'INVALID_ARGUMENT', hint: 'a path segment is too long for the file system' },
  ENOTDIR: { code: 'CONFLICT', hint: 'a parent of it is a file, not a directory' },
  EISDIR: { code: 'CONFLICT', hint: 'it is a directory, not a file' },
  ELOOP: { code: 'FAILED_PRECONDITION', hint: 'symbolic links loop; fix the links under the store root' },
};

/**
 * Turns a file-system error into a {@link TrestleError} whose message names the artifact
 * path (never the absolute disk path alone) and says what to do; a `TrestleError` passes through.
 *
 * @example
 * catch (err) { throw mapFsError(err, 'write', 'models/m.onnx'); }
 * // TrestleError NOT_FOUND "cannot write artifact 'models/m.onnx': it does not exist"
 */
export function mapFsError(err: unknown, action: string, path: string): TrestleError {
  if (err instanceof TrestleError) return err;
  const fsCode = fsErrorCode(err);
  const known = fsCode === undefined ? undefined : FS_CODES[fsCode];
  const reason = known?.hint ?? (err instanceof Error ? err.message : String(err));
  return new TrestleError(
    known?.code ?? 'INTERNAL',
    `cannot ${action} artifact '${path}': ${reason}`,
    fsCode === undefined ? { path } : { path, fsCode },
    { cause: err },
  );
}
