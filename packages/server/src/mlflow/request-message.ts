import { invalidParameter, missingParameter, MlflowProtocolError } from './errors.js';

const INT64 = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** What Python's `float()` (used by MLflow's proto parser for doubles) reads as non-finite. */
const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ['nan', NaN],
  ['+nan', NaN],
  ['-nan', NaN],
  ['inf', Infinity],
  ['+inf', Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-inf', -Infinity],
  ['-infinity', -Infinity],
]);

/**
 * One MLflow request message (the JSON body of a POST, or the query string of a GET), read
 * with the rules of MLflow's proto JSON parser rather than plain JSON:
 *
 * - `null` is the same as absent; unknown fields are ignored;
 * - int64 fields (timestamps, steps) accept a JSON integer or a decimal string (`"1717…"`);
 * - doubles accept a number, `"NaN"`, `"Infinity"`, `"-Infinity"` or a numeric string;
 * - enums accept the value's name (`"FINISHED"`) or its proto number (`3`);
 * - in a query string every value is a string, a repeated field is a repeated key
 *   (`run_ids=a&run_ids=b`, also `run_ids[]=a`), and a scalar takes the first value.
 *
 * A wrong type is `INVALID_ARGUMENT` (MLflow's `INVALID_PARAMETER_VALUE`) naming the field by
 * its path, e.g. `metrics[3].timestamp`.
 *
 * @example
 * const msg = RequestMessage.fromBody({ run_id: 'ab12', key: 'loss', value: 'NaN', timestamp: 1717000000000 });
 * msg.runId();                    // 'ab12'
 * msg.requiredDouble('value');    // NaN
 * msg.int64('step') ?? 0;         // 0
 */
export class RequestMessage {
  readonly #fields: Readonly<Record<string, unknown>>;
  readonly #path: string;
  readonly #fromQuery: boolean;

  private constructor(fields: Readonly<Record<string, unknown>>, path: string, fromQuery: boolean) {
    this.#fields = fields;
    this.#path = path;
    this.#fromQuery = fromQuery;
  }

  /**
   * A message from a parsed JSON body. No body means `{}`; a body that is itself a JSON string
   * is decoded once more (older MLflow clients double-encode); anything but an object is
   * `MALFORMED_REQUEST`.
   */
  static fromBody(body: unknown): RequestMessage {
    let value = body;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value) as unknown;
      } catch {
        throw new MlflowProtocolError(
          'MALFORMED_REQUEST',
          'The request body is a JSON string that does not hold a JSON object; send the object itself.',
        );
      }
    }
    if (value === undefined || value === null) return new RequestMessage({}, '', false);
    if (!isPlainObject(value)) {
      throw new MlflowProtocolError(
        'MALFORMED_REQUEST',
        `The request body must be a JSON object, got ${Array.isArray(value) ? 'a list' : typeof value}.`,
      );
    }
    return new RequestMessage(value, '', false);
  }

  /** A message from a parsed query string (`request.query`); keys such as `ids[]` or `ids[0]` mean `ids`. */
  static fromQuery(query: unknown): RequestMessage {
    // Keys come from the client: `?constructor=x` or `?__proto__=x` must not find Object's own members.
    const fields = new Map<string, string[]>();
    if (isPlainObject(query)) {
      for (const [rawKey, raw] of Object.entries(query)) {
        const key = rawKey.replace(/\[\d*\]$/, '');
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
        fields.set(key, [...(fields.get(key) ?? []), ...values]);
      }
    }
    return new RequestMessage(Object.fromEntries(fields), '', true);
  }

  /** Names of the fields present (a proto `map<string, …>` field read as a message has its keys as fields). */
  keys(): string[] {
    return Object.keys(this.#fields).filter((k) => this.#raw(k) !== undefined);
  }

  /** Whether the field is present (and not `null`). */
  has(name: string): boolean {
    return this.#raw(name) !== undefined;
  }

  /** An optional string field. */
  string(name: string): string | undefined {
    const value = this.#raw(name);
    if (value === undefined || typeof value === 'string') return value;
    throw invalidParameter(this.#at(name), value, 'a string');
  }

  /** A required string field; absent or `''` is `Missing value for required parameter`. */
  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw missingParameter(this.#at(name));
    return value;
  }

  /** An optional int64 field (epoch ms, steps), as a safe JS integer. */
  int64(name: string): number | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    const n =
      typeof value === 'number' && Number.isInteger(value)
        ? value
        : typeof value === 'string' && INT64.test(value)
          ? Number(value)
          : undefined;
    if (n === undefined) throw invalidParameter(this.#at(name), value, 'an integer');
    if (!Number.isSafeInteger(n))
      throw invalidParameter(this.#at(name), value, `an integer of at most ${Number.MAX_SAFE_INTEGER} in magnitude`);
    return n;
  }

  /** A required int64 field. */
  requiredInt64(name: string): number {
    const value = this.int64(name);
    if (value === undefined) throw missingParameter(this.#at(name));
    return value;
  }

  /** An optional double field; NaN and ±Infinity arrive as strings. */
  double(name: string): number | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (typeof value === 'number') return value;
    if (typeof value === 'string') {
      const special = NON_FINITE.get(value.trim().toLowerCase());
      if (special !== undefined) return special;
      if (DECIMAL.test(value.trim())) return Number(value);
    }
    throw invalidParameter(this.#at(name), value, 'a number (or "NaN", "Infinity", "-Infinity")');
  }

  /** A required double field. */
  requiredDouble(name: string): number {
    const value = this.double(name);
    if (value === undefined) throw missingParameter(this.#at(name));
    return value;
  }

  /**
   * An optional enum field: a name from `names`, or its proto number (`names[0]` is 1).
   *
   * @example msg.enumOf('run_view_type', ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'])
   */
  enumOf<T extends string>(name: string, names: readonly T[]): T | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    const byName = names.find((n) => n === value);
    if (byName !== undefined) return byName;
    const number =
      typeof value === 'number' ? value : typeof value === 'string' && INT64.test(value) ? Number(value) : NaN;
    const byNumber = Number.isInteger(number) ? names[number - 1] : undefined;
    if (byNumber !== undefined) return byNumber;
    throw invalidParameter(this.#at(name), value, `one of ${names.join(', ')}`);
  }

  /** An optional bool field: `true`/`false`, or `"true"`/`"false"` (any case) in a query string. */
  bool(name: string): boolean | undefined {
    const value = this.#raw(name);
    if (value === undefined || typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    throw invalidParameter(this.#at(name), value, 'a boolean');
  }

  /** A repeated string field; absent is `[]`. */
  strings(name: string): string[] {
    const value = this.#rawList(name);
    if (value.every((v): v is string => typeof v === 'string')) return value;
    throw invalidParameter(this.#at(name), this.#fields[name], 'a list of strings');
  }

  /** A repeated message field; absent is `[]`. Each element's errors name it (`metrics[2].key`). */
  messages(name: string): RequestMessage[] {
    return this.#rawList(name).map((element, index) => {
      if (!isPlainObject(element)) throw invalidParameter(`${this.#at(name)}[${index}]`, element, 'an object');
      return new RequestMessage(element, `${this.#at(name)}[${index}]`, this.#fromQuery);
    });
  }

  /** An optional message field. */
  message(name: string): RequestMessage | undefined {
    const value = this.#raw(name);
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) throw invalidParameter(this.#at(name), value, 'an object');
    return new RequestMessage(value, this.#at(name), this.#fromQuery);
  }

  /** A required message field. */
  requiredMessage(name: string): RequestMessage {
    const value = this.message(name);
    if (value === undefined) throw missingParameter(this.#at(name));
    return value;
  }

  /** The run id: `run_id`, or the deprecated `run_uuid` that older clients still send. */
  runId(): string {
    const id = this.string('run_id') || this.string('run_uuid');
    if (id === undefined || id === '') throw missingParameter(this.#at('run_id'));
    return id;
  }

  #at(name: string): string {
    return this.#path === '' ? name : `${this.#path}.${name}`;
  }

  #raw(name: string): unknown {
    if (!Object.hasOwn(this.#fields, name)) return undefined;
    const value = this.#fields[name];
    if (this.#fromQuery && Array.isArray(value)) return value[0] as unknown;
    return value === null ? undefined : value;
  }

  #rawList(name: string): unknown[] {
    if (!Object.hasOwn(this.#fields, name)) return [];
    const value = this.#fields[name];
    if (value === null || value === undefined) return [];
    if (!Array.isArray(value)) throw invalidParameter(this.#at(name), value, 'a list');
    return value as unknown[];
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Largest `max_results` of a search (MLflow's `SEARCH_MAX_RESULTS_THRESHOLD`). */
const MAX_SEARCH_RESULTS = 50_000;

/**
 * Reads `max_results` of a search: absent is `undefined` (the store's default, 1000), above
 * {@link MAX_SEARCH_RESULTS} or below 1 is `INVALID_PARAMETER_VALUE`.
 */
export function readMaxResults(
  msg: RequestMessage,
  field = 'max_results',
  max = MAX_SEARCH_RESULTS,
): number | undefined {
  const value = msg.int64(field);
  if (value === undefined) return undefined;
  if (value < 1 || value > max) throw invalidParameter(field, value, `an integer between 1 and ${max}`);
  return value;
}
