import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fileError } from './file-error.js';

/**
 * SHA-256 of a file's bytes, hex, streamed: the digest runs record for a dataset input.
 *
 * @example await fileDigest('train.csv') // 'e3b0c442…' (64 hex digits)
 */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw fileError(err, path);
  }
  return hash.digest('hex');
}
