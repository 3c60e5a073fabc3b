/**
 * The HTTP surface of `trestle serve` on Node's own `http` (no framework on the hot path:
 * see bench/serving.ts for why). One port answers:
 *
 * - Open Inference Protocol V2: `/v2`, `/v2/health/{live,ready}`, `/v2/models/{name}[/versions/{v}][/ready|/infer]`
 * - MLflow scoring: `POST /invocations` (JSON or text/csv), `/ping`, `/health`, `/version`
 * - `POST /predict` with JSON records
 * - Prometheus `/metrics`
 *
 * Every prediction response names the version that answered (`x-model-version`) and the
 * request id (`x-request-id`, honoured when the client sends one).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODE_INFO, TrestleError, newRequestId } from '@trestle/core';
import type { ServingMetrics } from './metrics.js';
import type { Batch, Outputs } from './predictor.js';
import { decodeCsv } from './protocols/csv.js';
import { decodeInvocation } from './protocols/mlflow.js';
import { mlflowPredictions, outputRecords } from './protocols/outputs.js';
import { decodePredict } from './protocols/records.js';
import { decodeInferRequest, encodeInferResponse, modelMetadata } from './protocols/v2.js';
import type { ModelRuntime, Role } from './runtime.js';
import type { TrafficRouter } from './traffic.js';

/** One answered prediction request, handed to the inference logger off the response path. */
export interface InferenceEvent {
  readonly runtime: ModelRuntime;
  readonly role: Role;
  readonly requestId: string;
  /** Epoch ms when the request arrived. */
  readonly time: number;
  readonly latencyMs: number;
  readonly batch: Batch;
  readonly outputs: Outputs;
  /** A shadow prediction (not returned to the client). */
  readonly shadow: boolean;
}

/** Receives every answered prediction (the inference logger). Must not throw or block. */
export interface InferenceSink {
  record(event: InferenceEvent): void;
}

export interface ServingAppOptions {
  readonly router: TrafficRouter;
  readonly metrics: ServingMetrics;
  readonly sink?: InferenceSink;
  /** Largest request body accepted (bytes). Default 16 MiB. */
  readonly maxBodyBytes?: number;
  /** Version reported by `/version` and `/v2`. */
  readonly serverVersion: string;
  /** Logs one line about an unexpected failure (never the request body). */
  readonly logError?: (message: string) => void;
}

type Family = 'mlflow' | 'v2' | 'trestle';

interface Reply {
  status: number;
  body: string;
  type: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json';

function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return headers === undefined
    ? { status, body: JSON.stringify(value), type: JSON_TYPE }
    : { status, body: JSON.stringify(value), type: JSON_TYPE, headers };
}

function notFound(message: string): TrestleError {
  return new TrestleError('NOT_FOUND', message);
}

/** The request handler and its lifecycle state (draining on shutdown). */
export class ServingApp {
  private inFlight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBody: number;

  constructor(private readonly options: ServingAppOptions) {
    this.maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  get router(): TrafficRouter {
    return this.options.router;
  }

  /** Ready to take traffic: a model is loaded and the server is not draining. */
  get ready(): boolean {
    return !this.draining;
  }

  /** Requests being handled now. */
  get active(): number {
    return this.inFlight;
  }

  /** The `http.createServer` listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    const t0 = performance.now();
    const arrived = Date.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let route = 'not_found';
    let family: Family = 'trestle';
    const finish = (reply: Reply): void => {
      const headers: Record<string, string | number> = {
        'content-type': reply.type,
        'content-length': Buffer.byteLength(reply.body),
        ...reply.headers,
      };
      if (this.draining) headers['connection'] = 'close';
      res.writeHead(reply.status, headers);
      res.end(reply.body);
      this.options.metrics.request(route, reply.status, (performance.now() - t0) / 1000);
      this.inFlight--;
      if (this.inFlight === 0 && this.idleWaiters.length > 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    };
    const fail = (err: unknown): void => finish(this.errorReply(err, family));
    try {
      const method = req.method ?? 'GET';
      if (path === '/invocations') {
        route = 'invocations';
        family = 'mlflow';
        this.expect(method, 'POST');
        this.predictRoute(req, 'invocations', arrived, t0).then(finish, fail);
        return;
      }
      if (path === '/predict') {
        route = 'predict';
        this.expect(method, 'POST');
        this.predictRoute(req, 'predict', arrived, t0).then(finish, fail);
        return;
      }
      if (path.startsWith('/v2')) {
        family = 'v2';
        const parts = path.split('/').filter((s) => s !== '');
        if (parts.length >= 3 && parts[1] === 'models' && parts.at(-1) === 'infer') {
          route = 'v2_infer';
          this.expect(method, 'POST');
          const rest = parts.slice(2, -1);
          this.v2Runtime(rest); // 404 for an unknown model before the body is read
          // Picked again after the body is read: a hot swap may have retired the first pick meanwhile.
          this.predictRoute(req, 'v2', arrived, t0, () => this.v2Runtime(rest)).then(finish, fail);
          return;
        }
        route = 'v2_metadata';
        this.expect(method, 'GET');
        finish(this.v2Get(parts));
        return;
      }
      if (path === '/ping' || path === '/health') {
        route = 'health';
        family = 'mlflow';
        this.expect(method, 'GET');
        finish(
          this.draining
            ? json(503, { status: 'draining' })
            : path === '/ping'
              ? { status: 200, body: '\n', type: 'text/plain; charset=utf-8' }
              : json(200, {
                  status: 'ok',
                  model: this.router.champion.predictor.name,
                  version: this.router.champion.version,
                }),
        );
        return;
      }
      if (path === '/version') {
        route = 'health';
        family = 'mlflow';
        this.expect(method, 'GET');
        finish({ status: 200, body: this.options.serverVersion, type: 'text/plain; charset=utf-8' });
        return;
      }
      if (path === '/metrics') {
        route = 'metrics';
        this.expect(method, 'GET');
        this.options.metrics.text().then((m) => finish({ status: 200, body: m.body, type: m.contentType }), fail);
        return;
      }
      throw notFound(
        `no route ${method} ${path}; try POST /invocations, POST /predict, POST /v2/models/${this.router.champion.predictor.name}/infer, GET /metrics`,
      );
    } catch (err) {
      fail(err);
    }
  };

  private expect(method: string, want: string): void {
    if (method !== want) {
      throw new TrestleError('INVALID_ARGUMENT', `method ${method} is not allowed here; use ${want}`, {
        status: 405,
        allow: want,
      });
    }
  }

  /** The runtime a V2 path names (`{name}` or `{name}/versions/{v}`), or a 404 naming what is served. */
  private v2Runtime(rest: string[]): ModelRuntime {
    const name = decodeURIComponent(rest[0] ?? '');
    const champion = this.router.champion;
    if (name !== champion.predictor.name) {
      throw notFound(`model '${name}' is not served here; this server serves '${champion.predictor.name}'`);
    }
    if (rest.length === 1) return this.router.route().answer;
    if (rest.length === 3 && rest[1] === 'versions') {
      const v = decodeURIComponent(rest[2]!);
      const rt = this.router.byVersion(v);
      if (rt === undefined) {
        throw notFound(`version ${v} of '${name}' is not loaded; loaded: ${this.loadedVersions().join(', ')}`);
      }
      return rt;
    }
    throw notFound(`no V2 route /v2/models/${rest.join('/')}`);
  }

  private loadedVersions(): string[] {
    return this.router.all().map((r) => r.runtime.version);
  }

  private v2Get(parts: string[]): Reply {
    if (parts.length === 1) return json(200, { name: 'trestle', version: this.options.serverVersion, extensions: [] });
    if (parts[1] === 'health' && parts.length === 3) {
      if (parts[2] === 'live') return json(200, { live: true });
      if (parts[2] === 'ready') return json(this.ready ? 200 : 503, { ready: this.ready });
    }
    if (parts[1] === 'models' && parts.length >= 3) {
      const isReady = parts.at(-1) === 'ready';
      const rt = this.v2Runtime(parts.slice(2, isReady ? -1 : undefined));
      if (isReady) return json(this.ready ? 200 : 503, { name: rt.predictor.name, ready: this.ready });
      return json(200, modelMetadata(rt.predictor, rt.schema, this.loadedVersions()));
    }
    throw notFound(`no V2 route /${parts.join('/')}`);
  }

  private async predictRoute(
    req: IncomingMessage,
    protocol: 'invocations' | 'predict' | 'v2',
    arrived: number,
    t0: number,
    pick?: () => ModelRuntime,
  ): Promise<Reply> {
    const contentType = req.headers['content-type'];
    const csv = protocol === 'invocations' && checkInvocationType(contentType) === 'csv';
    const raw = await readBody(req, this.maxBody);
    const text = raw.toString('utf8');
    let parsed: unknown;
    if (!csv) {
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new TrestleError('INVALID_ARGUMENT', `the body is not valid JSON (${(err as Error).message})`);
      }
    }
    const fixed = pick?.();
    const routed = fixed === undefined ? this.router.route() : { answer: fixed, role: roleOf(this.router, fixed) };
    const runtime = routed.answer;
    let v2: ReturnType<typeof decodeInferRequest> | undefined;
    const decode = (rt: ModelRuntime): Batch => {
      if (csv) return decodeCsv(rt.schema, text);
      if (protocol === 'invocations') return decodeInvocation(rt.schema, parsed);
      if (protocol === 'predict') return decodePredict(rt.schema, parsed);
      v2 = decodeInferRequest(rt.schema, parsed);
      return v2.batch;
    };
    const batch = decode(runtime);
    const outputs = await runtime.predict(batch);
    const header = req.headers['x-request-id'];
    const requestId =
      typeof header === 'string' && header !== '' && header.length <= 200 ? header : (v2?.id ?? newRequestId(arrived));
    const headers = {
      'x-model-name': runtime.predictor.name,
      'x-model-version': runtime.version,
      'x-request-id': requestId,
    };
    let reply: Reply;
    if (protocol === 'invocations') reply = json(200, { predictions: mlflowPredictions(outputs) }, headers);
    else if (protocol === 'predict')
      reply = json(
        200,
        { predictions: outputRecords(outputs), model: { name: runtime.predictor.name, version: runtime.version } },
        headers,
      );
    else reply = json(200, encodeInferResponse(runtime.predictor, outputs, v2?.id, v2?.outputs), headers);
    const sink = this.options.sink;
    if (sink !== undefined) {
      sink.record({
        runtime,
        role: routed.role,
        requestId,
        time: arrived,
        latencyMs: performance.now() - t0,
        batch,
        outputs,
        shadow: false,
      });
    }
    const shadow = 'shadow' in routed ? routed.shadow : undefined;
    if (shadow !== undefined) this.runShadow(shadow, decode, requestId, arrived);
    return reply;
  }

  /** The challenger predicts a copy of the request; its failures are counted, never returned. */
  private runShadow(
    shadow: ModelRuntime,
    decode: (rt: ModelRuntime) => Batch,
    requestId: string,
    arrived: number,
  ): void {
    const t0 = performance.now();
    let batch: Batch;
    try {
      batch = decode(shadow);
    } catch {
      this.options.metrics.shadowErrors.inc();
      return;
    }
    shadow.predict(batch).then(
      (outputs) =>
        this.options.sink?.record({
          runtime: shadow,
          role: 'challenger',
          requestId,
          time: arrived,
          latencyMs: performance.now() - t0,
          batch,
          outputs,
          shadow: true,
        }),
      () => this.options.metrics.shadowErrors.inc(),
    );
  }

  private errorReply(err: unknown, family: Family): Reply {
    let e: TrestleError;
    if (err instanceof TrestleError) e = err;
    else {
      this.options.logError?.(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      e = new TrestleError('INTERNAL', 'the server failed to answer; its log has the details');
    }
    const details = e.details as Record<string, unknown> | undefined;
    const status = typeof details?.['status'] === 'number' ? details['status'] : ERROR_CODE_INFO[e.code].http;
    const headers: Record<string, string> = {};
    if (e.code === 'UNAVAILABLE')
      headers['retry-after'] = String(
        typeof details?.['retryAfterSeconds'] === 'number' ? details['retryAfterSeconds'] : 1,
      );
    if (status === 405 && typeof details?.['allow'] === 'string') headers['allow'] = details['allow'];
    if (family === 'v2') return json(status, { error: e.message }, headers);
    if (family === 'mlflow') {
      const code = e.code === 'INVALID_ARGUMENT' ? 'BAD_REQUEST' : ERROR_CODE_INFO[e.code].mlflow;
      return json(status, { error_code: code, message: e.message }, headers);
    }
    return json(status, { error: { code: e.code, message: e.message, details: details ?? {} } }, headers);
  }

  /** Stops taking requests (ready → false, `connection: close`) and resolves when none is in flight. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

function roleOf(router: TrafficRouter, rt: ModelRuntime): Role {
  return router.challenger === rt ? 'challenger' : 'champion';
}

/** MLflow's rule: JSON or CSV, charset utf-8 only, no other parameters; anything else is 415. */
function checkInvocationType(header: string | undefined): 'json' | 'csv' {
  const [media = '', ...params] = (header ?? 'application/json').split(';').map((s) => s.trim().toLowerCase());
  const kind = media === 'application/json' ? 'json' : media === 'text/csv' ? 'csv' : undefined;
  if (kind === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `content type '${header ?? ''}' is not supported; send application/json or text/csv`,
      {
        status: 415,
      },
    );
  }
  for (const p of params) {
    if (p === '') continue;
    if (p !== 'charset=utf-8' && p !== 'charset="utf-8"') {
      throw new TrestleError('INVALID_ARGUMENT', `content type parameter '${p}' is not supported; only charset=utf-8`, {
        status: 415,
      });
    }
  }
  return kind;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(
          new TrestleError(
            'RESOURCE_EXHAUSTED',
            `the request body is over ${limit} bytes; send fewer rows per request`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(new TrestleError('INVALID_ARGUMENT', `the request body could not be read: ${err.message}`));
      }
    });
  });
}
