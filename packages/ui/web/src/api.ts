/**
 * The UI's only way to the server: REST API v1 with `fetch`. A token entered by the user is kept
 * in this tab's session storage and sent as a Bearer token; a 401 tells the app to ask for one.
 */
import type {
  WireArtifactList,
  WireDownsampledHistory,
  WireExperiment,
  WireExperimentPage,
  WireModelLineage,
  WireModelVersion,
  WireModelVersionPage,
  WireRegisteredModel,
  WireRegisteredModelPage,
  WireRegistryEventList,
  WireRun,
  WireRunComparison,
  WireRunKeys,
  WireRunPage,
  WireSearchRuns,
} from '@trestle/core/rest';

export type {
  WireExperiment,
  WireModelLineage,
  WireModelVersion,
  WireRegisteredModel,
  WireRun,
  WireRunComparison,
  WireRunPage,
};

/** One entry of a model's audit trail. */
export type WireRegistryEvent = WireRegistryEventList['items'][number];

const TOKEN_KEY = 'trestle.token';
const API = '/api/v1';

/** An error answered by the server, `{ error: { code, message, details? } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** Event fired on `window` when the server asks for a token (401). */
export const AUTH_REQUIRED_EVENT = 'trestle:auth-required';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return token === null ? extra : { ...extra, authorization: `Bearer ${token}` };
}

async function failure(res: Response): Promise<ApiError> {
  let code = 'INTERNAL';
  let message = `${res.status} ${res.statusText}`;
  let details: Record<string, unknown> = {};
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; details?: Record<string, unknown> };
    };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
    details = body.error?.details ?? {};
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  if (res.status === 401) window.dispatchEvent(new CustomEvent(AUTH_REQUIRED_EVENT, { detail: message }));
  return new ApiError(res.status, code, message, details);
}

async function request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const init: RequestInit = {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal !== undefined) init.signal = signal;
  const res = await fetch(`${API}${path}`, init);
  if (!res.ok) throw await failure(res);
  return res;
}

async function json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  return (await (await request(method, path, body, signal)).json()) as T;
}

const enc = encodeURIComponent;
const encPath = (path: string): string => path.split('/').map(enc).join('/');

/** A metric value as the wire carries it, as a number. */
export function metricNumber(value: number | string): number {
  if (typeof value === 'number') return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return NaN;
}

export const api = {
  experiments(params: { filter?: string; pageToken?: string; maxResults?: number }): Promise<WireExperimentPage> {
    const q = new URLSearchParams();
    if (params.filter !== undefined && params.filter !== '') q.set('filter', params.filter);
    if (params.pageToken !== undefined) q.set('pageToken', params.pageToken);
    q.set('maxResults', String(params.maxResults ?? 500));
    q.append('orderBy', 'last_update_time DESC');
    return json('GET', `/experiments?${q.toString()}`);
  },
  experiment(id: string): Promise<WireExperiment> {
    return json('GET', `/experiments/${enc(id)}`);
  },
  searchRuns(body: WireSearchRuns, signal?: AbortSignal): Promise<WireRunPage> {
    return json('POST', '/runs/search', body, signal);
  },
  /** The params, metrics and tags keys of an experiment's runs, without loading the runs. */
  runKeys(experimentId: string, signal?: AbortSignal): Promise<WireRunKeys> {
    return json('GET', `/experiments/${enc(experimentId)}/run-keys`, undefined, signal);
  },
  run(id: string, signal?: AbortSignal): Promise<WireRun> {
    return json('GET', `/runs/${enc(id)}`, undefined, signal);
  },
  compare(runIds: readonly string[]): Promise<WireRunComparison> {
    return json('POST', '/runs/compare', { runIds });
  },
  downsampled(
    runId: string,
    key: string,
    range: { points: number; startStep?: number; endStep?: number },
    signal?: AbortSignal,
  ): Promise<WireDownsampledHistory> {
    const q = new URLSearchParams({ points: String(range.points) });
    if (range.startStep !== undefined) q.set('startStep', String(range.startStep));
    if (range.endStep !== undefined) q.set('endStep', String(range.endStep));
    return json('GET', `/runs/${enc(runId)}/metrics/${enc(key)}/downsampled?${q.toString()}`, undefined, signal);
  },
  artifacts(runId: string, path: string): Promise<WireArtifactList> {
    const q = path === '' ? '' : `?path=${enc(path)}`;
    return json('GET', `/runs/${enc(runId)}/artifacts${q}`);
  },
  async artifact(runId: string, path: string): Promise<Blob> {
    return (await request('GET', `/runs/${enc(runId)}/artifacts/${encPath(path)}`)).blob();
  },
  registeredModels(params: { filter?: string; pageToken?: string }): Promise<WireRegisteredModelPage> {
    const q = new URLSearchParams({ maxResults: '200' });
    if (params.filter !== undefined && params.filter !== '') q.set('filter', params.filter);
    if (params.pageToken !== undefined) q.set('pageToken', params.pageToken);
    q.append('orderBy', 'last_updated_timestamp DESC');
    return json('GET', `/registered-models?${q.toString()}`);
  },
  registeredModel(name: string): Promise<WireRegisteredModel> {
    return json('GET', `/registered-models/${enc(name)}`);
  },
  /** Every version of a model, newest first (a page of up to 1,000). */
  modelVersions(name: string): Promise<WireModelVersionPage> {
    const filter = `name = '${name.replace(/'/g, "''")}'`;
    const q = new URLSearchParams({ filter, maxResults: '1000' });
    q.append('orderBy', 'version_number DESC');
    return json('GET', `/model-versions?${q.toString()}`);
  },
  /** The model versions registered from one run (lineage from the run page). */
  versionsOfRun(runId: string): Promise<WireModelVersionPage> {
    const q = new URLSearchParams({ filter: `run_id = '${runId.replace(/'/g, "''")}'`, maxResults: '100' });
    return json('GET', `/model-versions?${q.toString()}`);
  },
  versionLineage(name: string, version: number): Promise<WireModelLineage> {
    return json('GET', `/registered-models/${enc(name)}/versions/${version}/lineage`);
  },
  modelHistory(name: string): Promise<WireRegistryEventList> {
    return json('GET', `/registered-models/${enc(name)}/history?limit=500`);
  },
  /** Sets or moves an alias; the reason goes to the audit trail. */
  setAlias(name: string, alias: string, version: number, reason: string): Promise<WireModelVersion> {
    return json('PUT', `/registered-models/${enc(name)}/aliases/${enc(alias)}`, {
      version,
      ...(reason === '' ? {} : { reason }),
    });
  },
  /** Moves an alias back to the version it pointed to before its last move. */
  rollbackAlias(name: string, alias: string, reason: string): Promise<WireModelVersion> {
    return json(
      'POST',
      `/registered-models/${enc(name)}/aliases/${enc(alias)}/rollback`,
      reason === '' ? {} : { reason },
    );
  },
  /** Checks a token before the app keeps it. */
  async checkToken(token: string): Promise<void> {
    const res = await fetch(`${API}/experiments?maxResults=1`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
    }
  },
};

/**
 * What a page shows for a failed load; nothing for a 401, which the token dialog answers
 * (the page loads again once a token is given).
 */
export function errorText(e: unknown): string | undefined {
  if (e instanceof ApiError && e.status === 401) return undefined;
  return e instanceof Error ? e.message : String(e);
}
