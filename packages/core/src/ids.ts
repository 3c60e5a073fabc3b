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
