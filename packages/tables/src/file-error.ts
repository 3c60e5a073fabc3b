import { TrestleError, isTrestleError } from '@trestle/core';

/** A file-system error as a TrestleError that names the path (TrestleErrors pass through). */
export function fileError(err: unknown, path: string): TrestleError {
  if (isTrestleError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return new TrestleError('NOT_FOUND', `${path} does not exist`, { path }, { cause: err });
  if (code === 'EISDIR')
    return new TrestleError('INVALID_ARGUMENT', `${path} is a folder, not a file`, { path }, { cause: err });
  return new TrestleError(
    'INVALID_ARGUMENT',
    `cannot read ${path}: ${(err as Error).message ?? String(err)}`,
    { path },
    { cause: err },
  );
}
