import { randomBytes, randomUUID } from 'node:crypto';

/** A new run id: 32 lowercase hex characters, like MLflow's uuid4().hex (and as MLflow does, a UUID v4 without dashes). */
export function newRunId(): string {
  // randomUUID draws from a pooled entropy buffer: several times cheaper than randomBytes(16).
  return randomUUID().replaceAll('-', '');
}

const ADJECTIVES = [
  'bold',
  'calm',
  'brave',
  'bright',
  'clever',
  'eager',
  'gentle',
  'keen',
  'lucky',
  'merry',
  'quiet',
  'rapid',
  'sharp',
  'swift',
  'tidy',
  'vivid',
  'wise',
  'zesty',
];
const NOUNS = [
  'heron',
  'otter',
  'falcon',
  'lynx',
  'badger',
  'crane',
  'finch',
  'gecko',
  'ibis',
  'koala',
  'lemur',
  'marten',
  'newt',
  'orca',
  'panda',
  'quail',
  'raven',
  'stoat',
];

/** A readable run name such as `swift-otter-042`. */
export function newRunName(): string {
  const [a, n, d] = randomBytes(3);
  return `${ADJECTIVES[a! % ADJECTIVES.length]}-${NOUNS[n! % NOUNS.length]}-${String(d! % 1000).padStart(3, '0')}`;
}

/**
 * A new request id: a UUID version 7 (RFC 9562), whose first 48 bits are the epoch ms, so ids
 * made one after another sort one after another. Indexes keyed by them (the inference log's)
 * grow at their end instead of touching a random page per insert.
 *
 * @example newRequestId(); // '019af3c2-5e10-7b4e-9c1d-3f2a6b8e0d41'
 */
export function newRequestId(now = Date.now()): string {
  // A v4 UUID from the pooled generator, with the time in front and the version nibble set to 7.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
