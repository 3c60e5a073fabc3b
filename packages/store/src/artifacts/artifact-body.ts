import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArtifactBody, PutOptions } from '@trestle/core';
import { normalizeArtifactPath, TrestleError } from '@trestle/core';

/**
 * Turns the body of a `put` into a byte stream: strings are UTF-8, bytes are sent as one
 * chunk, streams are used as they are. Anything else is `INVALID_ARGUMENT`.
 *
 * @example
 * for await (const chunk of artifactBodyStream('hello')) console.log(chunk.length); // 5
 */
function artifactBodyStream(body: ArtifactBody): Readable {
  if (body instanceof Readable) return body;
  if (typeof body === 'string') return Readable.from([Buffer.from(body, 'utf8')]);
  if (body instanceof Uint8Array) return Readable.from([body]);
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `artifact body must be a Readable, a Uint8Array or a string, got ${typeof body}`,
  );
}

/**
 * Validates a `put`'s path and opens its body as a stream; on a bad path or body, a stream body
 * is destroyed (so its source is released) before the error is thrown.
 *
 * @example
 * const { rel, source } = openPut('model/model.json', '{}'); // rel: 'model/model.json'
 */
export function openPut(path: string, body: ArtifactBody): { rel: string; source: Readable } {
  try {
    return { rel: normalizeArtifactPath(path), source: artifactBodyStream(body) };
  } catch (err) {
    if (body instanceof Readable) body.destroy();
    throw err;
  }
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The expected checksum of a put, checked and lower-cased; `undefined` when none was given.
 *
 * @example expectedSha256({ sha256: 'AB…' }) // 'ab…'
 */
export function expectedSha256(options: PutOptions | undefined): string | undefined {
  const value = options?.sha256;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !SHA256_HEX.test(value)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `the expected SHA-256 of an artifact must be 64 hex digits, got ${JSON.stringify(value)}`,
      { sha256: String(value) },
    );
  }
  return value.toLowerCase();
}

/**
 * Refuses content whose SHA-256 is not the one the writer announced; call before anything is
 * replaced.
 *
 * @example checkSha256('model.onnx', digest.sha256(), expected);
 */
export function checkSha256(rel: string, actual: string, expected: string | undefined): void {
  if (expected === undefined || actual === expected) return;
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `the content of artifact '${rel}' does not match its checksum: expected SHA-256 ${expected}, received ${actual}; nothing was replaced, send the file again`,
    { path: rel, expected, received: actual },
  );
}

/**
 * Turns one chunk of a body stream into bytes (streams with an encoding set yield strings).
 *
 * @example
 * chunkBytes('é').length; // 2
 */
export function chunkBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TrestleError('INVALID_ARGUMENT', `artifact body streams must yield bytes or strings, got ${typeof chunk}`);
}

/**
 * Size (bytes) and SHA-256 of content seen so far, fed chunk by chunk while it streams past.
 *
 * @example
 * const digest = new ContentDigest();
 * digest.update(Buffer.from('abc'));
 * digest.size;    // 3
 * digest.sha256(); // 'ba7816bf…'
 */
export class ContentDigest {
  #hash: Hash = createHash('sha256');
  #size = 0;
  #hex: string | undefined;

  /** Adds one chunk. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** Hex SHA-256 of everything seen; call at the end (no more updates afterwards). */
  sha256(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }
}
