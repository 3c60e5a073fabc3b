/**
 * Which loaded version answers a request: the champion alone, a percentage canary to the
 * challenger, or shadow mode (the challenger sees a copy of the traffic; the champion answers).
 * Swapping a role is one assignment, so a request picks a consistent runtime and finishes on it.
 */
import type { ModelRuntime, Role } from './runtime.js';

export type TrafficMode = { kind: 'single' } | { kind: 'canary'; percent: number } | { kind: 'shadow' };

export interface Routed {
  readonly answer: ModelRuntime;
  readonly role: Role;
  /** Runs on a copy of the request; its answer is logged, never returned. */
  readonly shadow?: ModelRuntime;
}

export class TrafficRouter {
  private runtimes: { champion: ModelRuntime; challenger?: ModelRuntime };

  constructor(
    champion: ModelRuntime,
    readonly mode: TrafficMode = { kind: 'single' },
    challenger?: ModelRuntime,
    private readonly random: () => number = Math.random,
  ) {
    this.runtimes = challenger === undefined ? { champion } : { champion, challenger };
  }

  get champion(): ModelRuntime {
    return this.runtimes.champion;
  }

  get challenger(): ModelRuntime | undefined {
    return this.runtimes.challenger;
  }

  /** Every loaded runtime with its role. */
  all(): { role: Role; runtime: ModelRuntime }[] {
    const out: { role: Role; runtime: ModelRuntime }[] = [{ role: 'champion', runtime: this.runtimes.champion }];
    if (this.runtimes.challenger !== undefined) out.push({ role: 'challenger', runtime: this.runtimes.challenger });
    return out;
  }

  /** Picks the runtime that answers this request (and a shadow, in shadow mode). */
  route(): Routed {
    const { champion, challenger } = this.runtimes;
    if (challenger === undefined) return { answer: champion, role: 'champion' };
    if (this.mode.kind === 'canary' && this.random() * 100 < this.mode.percent) {
      return { answer: challenger, role: 'challenger' };
    }
    if (this.mode.kind === 'shadow') return { answer: champion, role: 'champion', shadow: challenger };
    return { answer: champion, role: 'champion' };
  }

  /** The runtime of a given version (V2 `/versions/{v}` routes), if loaded. */
  byVersion(version: string): ModelRuntime | undefined {
    return this.all().find((r) => r.runtime.version === version)?.runtime;
  }

  /** Replaces a role's runtime atomically; returns the one it replaced (to drain and close). */
  swap(role: Role, runtime: ModelRuntime): ModelRuntime | undefined {
    const old = this.runtimes[role];
    this.runtimes = { ...this.runtimes, [role]: runtime };
    return old;
  }
}
