import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ERROR_CODE_INFO, ERROR_CODES, TrestleError, type ErrorCode } from '@trestle/core';
import { markTransient } from '../transient.js';
import { encodeJson } from '@trestle/core/rest';

/** Retry policy for transient failures (connection errors, 429, 502/503/504). */
export interface RetryOptions {
  /** Tries in all, the first included; `1` disables retries. Default 8. */
  attempts?: number | undefined;
  /** Delay before the first retry, in ms; it doubles on every retry. Default 250. */
  baseDelayMs?: number | undefined;
  /** Upper bound of one delay, in ms. Default 8000. */
  maxDelayMs?: number | undefined;
}

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** Base URL of the Trestle server, e.g. `http://localhost:5000` or `https://ml.example.com/trestle`. */
  trackingUri: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** The fetch to use; default the global one (undici). */
  fetch?: typeof fetch | undefined;
  retry?: RetryOptions | undefined;
  /**
   * Longest wait without progress, in ms: no response headers yet, or no bytes moving while a
   * body streams. Not a cap on total time, so large uploads and downloads are fine. Default 60,000.
   */
  timeoutMs?: number | undefined;
  /**
   * Send an `Idempotency-Key` with every POST and PATCH not marked `idempotent`, so that the
   * server answers a retried request with the stored answer of the first one instead of acting
   * twice. Default true. Without keys such requests are retried only when they provably never
   * reached the server (connection refused, DNS failure).
   */
  idempotencyKeys?: boolean | undefined;
  /**
   * Where the one line saying "the server is not answering, retrying" goes, once per outage.
   * Default: stderr.
   */
  warn?: ((message: string) => void) | undefined;
}

/** HTTP methods the v1 API uses. */
type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A query string value; arrays repeat the parameter (`orderBy=a&orderBy=b`), `undefined` omits it. */
export type QueryValue = string | number | boolean | undefined | readonly (string | number)[];

/** One request: `path` is already encoded (see {@link pathSegment}) and starts with `/`. */
export interface HttpRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue> | undefined;
  /** A JSON body, encoded with {@link encodeJson}. */
  json?: unknown;
  /** A raw body, sent as `application/octet-stream`; a Readable is streamed, never buffered whole. */
  body?: Readable | Uint8Array | string | undefined;
  /** Extra request headers (lowercase names), e.g. `x-checksum-sha256`. */
  headers?: Record<string, string> | undefined;
  /**
   * The request may be sent again without harm although its method is POST or PATCH: it only
   * reads (a search), or it sets state absolutely (log a batch of points, update a run). It is
   * then retried like a GET and gets no `Idempotency-Key`.
   */
  idempotent?: boolean | undefined;
}

/** The header naming a request so that the server acts on it once (IETF draft `Idempotency-Key`). */
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Answers worth another try: the request was not acted on (429, 503) or may not have been (502, 504). */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
/** Answers that say the request was not acted on, so that even a non-idempotent request may be sent again. */
const NOT_ACTED_ON_STATUSES = new Set([429, 503]);
/** Connection failures before any byte of the request left: safe to retry for every method. */
const NEVER_ARRIVED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const CONNECTION_ERROR_CODES = new Set([
  ...NEVER_ARRIVED_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
// Methods whose repetition has the effect of one request.
const IDEMPOTENT = new Set<HttpMethod>(['GET', 'HEAD', 'PUT', 'DELETE']);

/**
 * One URL path segment, percent-encoded. `.` and `..` are refused: URL parsing would resolve
 * them (even as `%2E`) and send the request to another route.
 *
 * @example pathSegment('a/b c') // 'a%2Fb%20c'
 */
export function pathSegment(value: string, what: string): string {
  if (value === '.' || value === '..' || value === '') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${what} ${JSON.stringify(value)} cannot be sent to a Trestle server: it is not a valid name`,
      { [what]: value },
    );
  }
  return encodeURIComponent(value);
}

/**
 * Refuses a call on a REST adapter that was closed, with the same message for every adapter.
 *
 * @example assertOpen(this.#closed, this.#http); // FAILED_PRECONDITION once close() ran
 */
export function assertOpen(closed: boolean, http: HttpClient): void {
  if (closed) {
    throw new TrestleError(
      'FAILED_PRECONDITION',
      `the connection to ${http.baseUrl} is closed; connect again to make more calls`,
    );
  }
}

/** The error code for an HTTP status whose body is not a Trestle error. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 409) return 'CONFLICT';
  if (status === 502 || status === 504) return 'UNAVAILABLE';
  // The first code of the table with this status: 400 → INVALID_ARGUMENT, 404 → NOT_FOUND, …
  const code = ERROR_CODES.find((c) => ERROR_CODE_INFO[c].http === status);
  if (code !== undefined) return code;
  return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
}

/** An idle timer per attempt: aborts when nothing has happened for `ms`; every sign of progress resets it. */
class IdleDeadline {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.#ms = ms;
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get expired(): boolean {
    return this.#controller.signal.aborted;
  }

  touch(): void {
    if (!Number.isFinite(this.#ms) || this.#ms <= 0 || this.expired) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#controller.abort(
        new TrestleError('UNAVAILABLE', `the Trestle server did not answer within ${this.#ms} ms`, {
          timeoutMs: this.#ms,
        }),
      );
    }, this.#ms);
    // An open socket keeps the process alive while a request is in flight; this timer need not.
    this.#timer.unref();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Bytes of a streamed upload kept so that it can be sent again after a transient failure.
 * fetch reads ahead before it has even connected, so "was the body touched" says nothing about
 * what the server got; instead an upload whose source has yielded at most this much is replayed
 * from the start, and a larger one is not retried (its chunks are dropped as they go out).
 */
export const UPLOAD_REPLAY_BYTES = 1 << 20;

/**
 * A Readable as web streams for fetch, one per attempt, all reading one source in order.
 * Chunks are logged while the total stays within {@link UPLOAD_REPLAY_BYTES}, so a later
 * attempt starts again from the first byte; past that the upload can be sent only once.
 */
class UploadBody {
  readonly #source: Readable;
  #iterator: AsyncIterator<unknown> | undefined;
  #reading: Promise<void> | undefined;
  /** Chunks read from the source; `#log[0]` is chunk number `#base`. */
  #log: Uint8Array[] = [];
  #base = 0;
  #bytesRead = 0;
  #ended = false;
  #sourceError: unknown;

  constructor(source: Readable) {
    this.#source = source;
  }

  /** Whether another attempt can send the whole body again. */
  get replayable(): boolean {
    return this.#base === 0 && this.#bytesRead <= UPLOAD_REPLAY_BYTES;
  }

  get sourceError(): unknown {
    return this.#sourceError;
  }

  stream(deadline: IdleDeadline): ReadableStream<Uint8Array> {
    let index = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const chunk = await this.#chunkAt(index++);
          deadline.touch();
          if (chunk === undefined) controller.close();
          else controller.enqueue(chunk);
        },
        // The source stays open for another attempt; #send destroys it when it gives up.
        cancel: () => undefined,
      },
      { highWaterMark: 0 },
    );
  }

  destroy(): void {
    this.#log = [];
    if (!this.#source.destroyed) this.#source.destroy();
  }

  async #chunkAt(index: number): Promise<Uint8Array | undefined> {
    while (index >= this.#base + this.#log.length) {
      if (this.#ended) return undefined;
      await this.#readOne();
    }
    if (index < this.#base) throw new Error('upload body chunk was already sent and released');
    const chunk = this.#log[index - this.#base];
    if (this.#bytesRead > UPLOAD_REPLAY_BYTES) {
      // Too big to replay: keep nothing that has been handed out.
      this.#log.splice(0, index - this.#base + 1);
      this.#base = index + 1;
    }
    return chunk;
  }

  // One read at a time, even when a failed attempt still has a pull pending.
  #readOne(): Promise<void> {
    this.#reading ??= (async () => {
      this.#iterator ??= this.#source[Symbol.asyncIterator]();
      let bytes: Uint8Array;
      try {
        const next = await this.#iterator.next();
        if (next.done === true) {
          this.#ended = true;
          return;
        }
        bytes = toBytes(next.value);
      } catch (err) {
        this.#sourceError ??= err;
        throw err;
      }
      this.#log.push(bytes);
      this.#bytesRead += bytes.byteLength;
    })().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TrestleError('INVALID_ARGUMENT', `artifact body streams must yield bytes or strings, got ${typeof chunk}`);
}

function connectionErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A connection failure that proves the request never reached the server (refused, no such host). */
function neverArrived(err: unknown): boolean {
  const code = connectionErrorCode(err);
  return code !== undefined && NEVER_ARRIVED_CODES.has(code);
}

function isConnectionError(err: unknown): boolean {
  if (connectionErrorCode(err) !== undefined) return true;
  return err instanceof TypeError && err.message === 'fetch failed';
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  // undici wraps several socket errors in an AggregateError with an empty message.
  if (cause instanceof AggregateError) {
    const first: unknown = cause.errors[0];
    if (first instanceof Error) return first.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What one attempt ended with, when it did not succeed. */
type Failure =
  | { kind: 'connection'; error: unknown }
  | { kind: 'timeout'; error: TrestleError }
  | { kind: 'status'; response: Response };

/**
 * The transport of the REST client: joins URLs, encodes JSON, adds the bearer token, times out
 * idle requests, retries transient failures with exponential backoff and jitter, and turns
 * error responses into {@link TrestleError}s. Constructing it does no I/O.
 *
 * Retries, with backoff: a request that may be sent again (GET, HEAD, PUT, DELETE, a request
 * marked `idempotent`, or a POST/PATCH carrying an `Idempotency-Key`, which the server honours)
 * is retried after a connection error, a timeout and a 429/502/503/504 answer. A request that
 * may not (a POST without a key) only after failures that prove it was not acted on: refused
 * connection, unknown host, 429, 503. A streamed body is retried only while it can be replayed
 * whole (see {@link UPLOAD_REPLAY_BYTES}). Other 4xx answers are never retried. The first
 * retry of an outage prints one line (see {@link HttpClientOptions.warn}).
 *
 * @example
 * const http = new HttpClient({ trackingUri: 'http://localhost:5000' });
 * const exp = await http.json<Experiment>({ method: 'GET', path: '/api/v1/experiments/1' });
 */
export class HttpClient {
  /** Base URL without a trailing slash, e.g. `http://localhost:5000`. */
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #idempotencyKeys: boolean;
  readonly #warn: (message: string) => void;
  /** Whether the current outage was reported; a success ends the outage. */
  #outageReported = false;

  constructor(options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.trackingUri);
    } catch {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `tracking URI '${options.trackingUri}' is not a URL; use http(s)://host:port`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TrestleError('INVALID_ARGUMENT', `tracking URI '${options.trackingUri}' must be an http(s):// URL`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        'the tracking URI must not contain a user name or password; pass a token (TRESTLE_TRACKING_TOKEN) instead',
      );
    }
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.#token = options.token === '' ? undefined : options.token;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#attempts = Math.max(1, Math.floor(options.retry?.attempts ?? 8));
    this.#baseDelayMs = Math.max(0, options.retry?.baseDelayMs ?? 250);
    this.#maxDelayMs = Math.max(this.#baseDelayMs, options.retry?.maxDelayMs ?? 8000);
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#idempotencyKeys = options.idempotencyKeys ?? true;
    this.#warn = options.warn ?? ((message) => void process.stderr.write(`${message}\n`));
  }

  /** The full URL of `path` (already encoded) with `query`. */
  url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) params.append(name, String(v));
      else params.append(name, String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs === '' ? '' : `?${qs}`}`;
  }

  /** Sends a request and decodes its JSON answer. */
  async json<T>(request: HttpRequest): Promise<T> {
    const { response, deadline } = await this.#send(request);
    try {
      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        // The server has answered, so it may have acted: report, do not send again.
        if (err instanceof TrestleError) throw err;
        throw new TrestleError(
          'UNAVAILABLE',
          `the connection to the Trestle server at ${this.baseUrl} broke while reading the answer to ${request.method} ${request.path}: ${describeCause(err)}`,
          { url: response.url, method: request.method },
          { cause: err },
        );
      }
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new TrestleError(
          'INTERNAL',
          `${this.baseUrl} answered ${request.method} ${request.path} with something that is not JSON (${response.headers.get('content-type') ?? 'no content type'}); is the tracking URI a Trestle server?`,
          { url: response.url, status: response.status },
        );
      }
    } finally {
      deadline.clear();
    }
  }

  /** Sends a request whose answer has no body of interest (204). */
  async empty(request: HttpRequest): Promise<void> {
    const { response, deadline } = await this.#send(request);
    try {
      await response.body?.cancel();
    } finally {
      deadline.clear();
    }
  }

  /** Sends a request and returns its status and headers; the body is discarded. */
  async head(request: HttpRequest): Promise<Headers> {
    const { response, deadline } = await this.#send(request);
    try {
      await response.body?.cancel();
    } finally {
      deadline.clear();
    }
    return response.headers;
  }

  /** Sends a request and returns its body as a Node stream; a stall longer than the timeout errors it. */
  async stream(request: HttpRequest): Promise<{ headers: Headers; body: Readable }> {
    const { response, deadline } = await this.#send(request);
    if (response.body === null) {
      deadline.clear();
      return { headers: response.headers, body: Readable.from([]) };
    }
    const watched = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          deadline.touch();
          controller.enqueue(chunk);
        },
        flush() {
          deadline.clear();
        },
      }),
    );
    return {
      headers: response.headers,
      body: Readable.fromWeb(watched),
    };
  }

  /** Sends with retries; resolves with a 2xx response whose deadline still runs, or throws a TrestleError. */
  async #send(request: HttpRequest): Promise<{ response: Response; deadline: IdleDeadline }> {
    const url = this.url(request.path, request.query);
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    const resendable = IDEMPOTENT.has(request.method) || request.idempotent === true;
    if (!resendable && this.#idempotencyKeys) headers[IDEMPOTENCY_KEY_HEADER] = randomUUID();
    const mayResend = resendable || headers[IDEMPOTENCY_KEY_HEADER] !== undefined;
    let fixedBody: string | Uint8Array | undefined;
    let upload: UploadBody | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      fixedBody = encodeJson(request.json);
    } else if (request.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      if (request.body instanceof Readable) upload = new UploadBody(request.body);
      else fixedBody = request.body;
    }

    let succeeded = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const deadline = new IdleDeadline(this.#timeoutMs);
        let failure: Failure;
        try {
          const init: RequestInit = { method: request.method, headers, signal: deadline.signal, redirect: 'follow' };
          if (upload !== undefined) {
            init.body = upload.stream(deadline);
            init.duplex = 'half';
          } else if (fixedBody !== undefined) {
            init.body = fixedBody;
          }
          const response = await this.#fetch(url, init);
          if (response.ok) {
            succeeded = true;
            this.#outageReported = false;
            return { response, deadline };
          }
          failure = { kind: 'status', response };
        } catch (err) {
          if (upload?.sourceError !== undefined) {
            deadline.clear();
            // The caller's own stream failing is reported as it is: the caller knows that error best.
            throw upload.sourceError as Error;
          }
          if (deadline.expired) {
            failure = { kind: 'timeout', error: deadline.signal.reason as TrestleError };
          } else if (isConnectionError(err)) {
            failure = { kind: 'connection', error: err };
          } else {
            deadline.clear();
            throw err instanceof TrestleError
              ? err
              : new TrestleError(
                  'INTERNAL',
                  `request ${request.method} ${url} failed: ${describeCause(err)}`,
                  {},
                  {
                    cause: err,
                  },
                );
          }
        }

        const replayable = upload === undefined || upload.replayable;
        const retryable =
          replayable &&
          (failure.kind === 'connection'
            ? mayResend || neverArrived(failure.error)
            : failure.kind === 'timeout'
              ? mayResend
              : RETRY_STATUSES.has(failure.response.status) &&
                (mayResend || NOT_ACTED_ON_STATUSES.has(failure.response.status)));
        if (!retryable || attempt >= this.#attempts) {
          try {
            throw await this.#finalError(failure, request, url, attempt);
          } finally {
            deadline.clear();
          }
        }
        this.#reportOutage(failure);
        let retryAfterMs: number | undefined;
        if (failure.kind === 'status') {
          retryAfterMs = parseRetryAfter(failure.response.headers.get('retry-after'));
          await failure.response.body?.cancel().catch(() => undefined);
        }
        deadline.clear();
        await sleep(Math.min(this.#maxDelayMs, retryAfterMs ?? this.#backoff(attempt)));
      }
    } finally {
      if (!succeeded) upload?.destroy();
    }
  }

  #reportOutage(failure: Failure): void {
    if (this.#outageReported) return;
    this.#outageReported = true;
    const why =
      failure.kind === 'status'
        ? `HTTP ${failure.response.status}`
        : failure.kind === 'timeout'
          ? `no answer within ${this.#timeoutMs} ms`
          : (connectionErrorCode(failure.error) ?? describeCause(failure.error));
    this.#warn(`trestle: the Trestle server at ${this.baseUrl} is not answering (${why}); retrying`);
  }

  // "Equal jitter": half the exponential delay, plus a random part of the other half.
  #backoff(attempt: number): number {
    const exp = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    return exp / 2 + Math.random() * (exp / 2);
  }

  async #finalError(failure: Failure, request: HttpRequest, url: string, attempts: number): Promise<TrestleError> {
    const details = { url, method: request.method, attempts };
    if (failure.kind === 'timeout') {
      return new TrestleError(
        'UNAVAILABLE',
        `cannot reach the Trestle server at ${this.baseUrl}: no answer to ${request.method} ${request.path} within ${this.#timeoutMs} ms; is 'trestle server' running?`,
        details,
        { cause: failure.error },
      );
    }
    if (failure.kind === 'connection') {
      return new TrestleError(
        'UNAVAILABLE',
        `cannot reach the Trestle server at ${this.baseUrl}: ${describeCause(failure.error)}; is 'trestle server' running?`,
        {
          ...details,
          ...(connectionErrorCode(failure.error) === undefined ? {} : { cause: connectionErrorCode(failure.error) }),
        },
        { cause: failure.error },
      );
    }
    const { response } = failure;
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const error = (body as { error?: unknown } | undefined)?.error;
    const transient = RETRY_STATUSES.has(response.status);
    if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
      const rebuilt = TrestleError.fromJSON(error);
      return transient ? markTransient(rebuilt) : rebuilt;
    }
    const status = `HTTP ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
    if (response.status === 429) {
      return markTransient(
        new TrestleError('RATE_LIMITED', `${this.baseUrl} asks to slow down (${status}); try again later`, {
          ...details,
          status: response.status,
        }),
      );
    }
    if (transient) {
      return new TrestleError(
        'UNAVAILABLE',
        `cannot reach the Trestle server at ${this.baseUrl}: ${status}; is 'trestle server' running?`,
        { ...details, status: response.status },
      );
    }
    const snippet = text.trim().replace(/\s+/g, ' ').slice(0, 200);
    return new TrestleError(
      codeForStatus(response.status),
      `${this.baseUrl} answered ${request.method} ${request.path} with ${status}${snippet === '' ? '' : `: ${snippet}`}`,
      { ...details, status: response.status },
    );
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
