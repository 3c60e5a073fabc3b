/**
 * Alerts on monitoring results: rules (dataset drift share, one feature's drift score, a
 * performance metric, a data-quality check) evaluated on every computed window, sent to sinks
 * (the log, a webhook signed with HMAC-SHA256, a Slack-compatible incoming webhook). An alert
 * is sent once when it starts firing (de-duplicated while it keeps firing, across replicas: the
 * state is in the metadata store) and once more when it clears.
 */
import { createHmac } from 'node:crypto';
import { TrestleError } from '@trestle/core';
import type { MonitoringStore, MonitorResult } from '@trestle/core';
import type { DatasetDrift, Performance, WindowQuality } from '@trestle/monitoring';

export type AlertRule =
  | { id: string; kind: 'drift_share'; above: number; model?: string }
  | { id: string; kind: 'feature_score'; feature: string; above?: number; below?: number; model?: string }
  | {
      id: string;
      kind: 'performance';
      metric: 'accuracy' | 'f1' | 'auc' | 'rmse' | 'mae';
      below?: number;
      above?: number;
      model?: string;
    }
  | { id: string; kind: 'quality'; check: 'schema' | 'nulls' | 'range' | 'unseen'; model?: string };

export type AlertSink =
  { kind: 'log' } | { kind: 'webhook'; url: string; secret?: string } | { kind: 'slack'; url: string };

export interface AlertConfig {
  rules: AlertRule[];
  sinks: AlertSink[];
}

/** What is sent: one per rule and model version when it starts firing and when it clears. */
export interface AlertEvent {
  status: 'firing' | 'resolved';
  rule: string;
  kind: AlertRule['kind'];
  model: string;
  version: string;
  alias: string | null;
  window: { start: number; end: number };
  /** The value that crossed (or no longer crosses) the limit. */
  value: number | null;
  message: string;
  time: number;
}

/** Header with the hex HMAC-SHA256 of the body, `sha256=…` (as GitHub's webhooks). */
export const SIGNATURE_HEADER = 'x-trestle-signature';

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks an alert configuration read from JSON; messages name the offending rule. */
export function parseAlertConfig(json: unknown): AlertConfig {
  const bad = (why: string): never => {
    throw new TrestleError('INVALID_ARGUMENT', `alert configuration: ${why}`);
  };
  if (typeof json !== 'object' || json === null) return bad('expected {"rules":[…],"sinks":[…]}');
  const { rules, sinks } = json as { rules?: unknown; sinks?: unknown };
  if (!Array.isArray(rules)) return bad('"rules" must be an array');
  if (!Array.isArray(sinks)) return bad('"sinks" must be an array');
  const ids = new Set<string>();
  for (const [i, r] of (rules as Record<string, unknown>[]).entries()) {
    const where = `rule ${i}${typeof r['id'] === 'string' ? ` ('${r['id']}')` : ''}`;
    if (typeof r['id'] !== 'string' || r['id'] === '') bad(`${where} needs an "id"`);
    if (ids.has(r['id'] as string)) bad(`${where}: id used twice`);
    ids.add(r['id'] as string);
    const num = (k: string): void => {
      if (r[k] !== undefined && typeof r[k] !== 'number') bad(`${where}: "${k}" must be a number`);
    };
    ['above', 'below'].forEach(num);
    switch (r['kind']) {
      case 'drift_share':
        if (typeof r['above'] !== 'number') bad(`${where}: drift_share needs "above" (a share, e.g. 0.5)`);
        break;
      case 'feature_score':
        if (typeof r['feature'] !== 'string') bad(`${where}: feature_score needs "feature"`);
        if (r['above'] === undefined && r['below'] === undefined)
          bad(`${where}: give "above" (a distance) or "below" (a p-value)`);
        break;
      case 'performance':
        if (!['accuracy', 'f1', 'auc', 'rmse', 'mae'].includes(r['metric'] as string))
          bad(`${where}: "metric" must be accuracy, f1, auc, rmse or mae`);
        if (r['above'] === undefined && r['below'] === undefined)
          bad(`${where}: give "below" (e.g. accuracy) or "above" (e.g. rmse)`);
        break;
      case 'quality':
        if (!['schema', 'nulls', 'range', 'unseen'].includes(r['check'] as string))
          bad(`${where}: "check" must be schema, nulls, range or unseen`);
        break;
      default:
        bad(`${where}: "kind" must be drift_share, feature_score, performance or quality`);
    }
  }
  for (const [i, s] of (sinks as Record<string, unknown>[]).entries()) {
    if (s['kind'] === 'log') continue;
    if (s['kind'] !== 'webhook' && s['kind'] !== 'slack') bad(`sink ${i}: "kind" must be log, webhook or slack`);
    try {
      new URL(String(s['url']));
    } catch {
      bad(`sink ${i}: "url" must be an http(s) URL`);
    }
  }
  return { rules: rules as AlertRule[], sinks: sinks as AlertSink[] };
}

/** The value a rule looks at in a result, and whether it crosses the limit (null: cannot tell). */
export function checkRule(
  rule: AlertRule,
  result: MonitorResult,
): { value: number | null; firing: boolean | null; what: string } {
  const cross = (v: number | null | undefined, above?: number, below?: number): boolean | null =>
    v === null || v === undefined ? null : (above !== undefined && v > above) || (below !== undefined && v < below);
  const limit = (above?: number, below?: number): string =>
    [above === undefined ? '' : `above ${above}`, below === undefined ? '' : `below ${below}`]
      .filter(Boolean)
      .join(' or ');
  switch (rule.kind) {
    case 'drift_share':
      return {
        value: result.driftShare,
        firing: cross(result.driftShare, rule.above),
        what: `drift share ${result.driftShare ?? '?'} (alert above ${rule.above})`,
      };
    case 'feature_score': {
      const f = (result.drift as DatasetDrift | null)?.features.find((x) => x.name === rule.feature);
      return {
        value: f?.score ?? null,
        firing: cross(f?.score, rule.above, rule.below),
        what: `${rule.feature} ${f?.method ?? ''} score ${f?.score ?? '?'} (alert ${limit(rule.above, rule.below)})`,
      };
    }
    case 'performance': {
      const p = result.performance as Performance | null;
      const m =
        p === null ? undefined : (p as unknown as Record<string, { value: number | null } | undefined>)[rule.metric];
      return {
        value: m?.value ?? null,
        firing: cross(m?.value, rule.above, rule.below),
        what: `${rule.metric} ${m?.value ?? '?'} (alert ${limit(rule.above, rule.below)})`,
      };
    }
    case 'quality': {
      const c = (result.quality as WindowQuality | null)?.checks.find((x) => x.name === rule.check);
      return {
        value: c?.value ?? null,
        firing: c === undefined ? null : !c.passed,
        what: `quality check ${rule.check}${c === undefined ? '' : `: ${c.passed ? 'passed' : `failed on ${c.features.join(', ')}`}`}`,
      };
    }
  }
}

export interface AlertLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Where alert state is kept: the metadata store's monitoring part, or anything with the same two methods. */
export type AlertStateStore = Pick<MonitoringStore, 'getAlertState' | 'setAlertState'>;

/** Evaluates the rules on results and notifies the sinks of changes. */
export class AlertEngine {
  readonly #config: AlertConfig;
  readonly #store: AlertStateStore;
  readonly #log: AlertLog;
  readonly #now: () => number;

  constructor(options: { config: AlertConfig; store: AlertStateStore; log: AlertLog; now?: () => number }) {
    this.#config = options.config;
    this.#store = options.store;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Evaluates every rule on a result; returns (and sends) the events of rules that changed state. */
  async evaluate(result: MonitorResult): Promise<AlertEvent[]> {
    const events: AlertEvent[] = [];
    for (const rule of this.#config.rules) {
      if (
        rule.model !== undefined &&
        rule.model !== result.name &&
        rule.model !== `${result.name}@${result.alias ?? ''}`
      )
        continue;
      const { value, firing, what } = checkRule(rule, result);
      if (firing === null) continue;
      const key = `${rule.id}\u0000${result.name}\u0000${result.version}`;
      const state = await this.#store.getAlertState(key);
      const was = state?.firing ?? false;
      if (firing === was) continue;
      const now = this.#now();
      await this.#store.setAlertState({ key, firing, since: now, value });
      const event: AlertEvent = {
        status: firing ? 'firing' : 'resolved',
        rule: rule.id,
        kind: rule.kind,
        model: result.name,
        version: result.version,
        alias: result.alias,
        window: { start: result.start, end: result.end },
        value,
        message: `${firing ? 'FIRING' : 'RESOLVED'} ${rule.id}: ${result.name} version ${result.version}${result.alias === null ? '' : ` (@${result.alias})`}, ${what}`,
        time: now,
      };
      events.push(event);
      await this.#send(event);
    }
    return events;
  }

  async #send(event: AlertEvent): Promise<void> {
    for (const sink of this.#config.sinks) {
      try {
        if (sink.kind === 'log') {
          this.#log.warn({ alert: event }, event.message);
          continue;
        }
        const body =
          sink.kind === 'slack'
            ? JSON.stringify({
                text: `${event.status === 'firing' ? ':rotating_light:' : ':white_check_mark:'} ${event.message}`,
                blocks: [
                  {
                    type: 'section',
                    text: {
                      type: 'mrkdwn',
                      text: `*${event.status.toUpperCase()}* \`${event.rule}\`\n${event.message}`,
                    },
                  },
                ],
              })
            : JSON.stringify(event);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (sink.kind === 'webhook' && sink.secret !== undefined)
          headers[SIGNATURE_HEADER] = signBody(body, sink.secret);
        const res = await fetch(sink.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) this.#log.warn({ status: res.status, sink: sink.url }, `alert sink answered ${res.status}`);
      } catch (err) {
        // A sink that is down must not stop monitoring; it is logged and the next change is sent again.
        this.#log.warn({ err, sink: sink.kind }, 'alert not delivered');
      }
    }
  }
}
