import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TrestleError } from '@trestle/core';
import { lookup, readYaml, shownPath, type Pipeline, type Stage } from './definition.js';

/** The validated DAG of a pipeline. */
export interface PipelineGraph {
  pipeline: Pipeline;
  /** Stages in a dependency order (every stage after the stages it depends on). */
  order: Stage[];
  /** Stage name → names of the stages it depends on. */
  upstream: Map<string, Set<string>>;
  /** Stage name → names of the stages that depend on it. */
  downstream: Map<string, Set<string>>;
  /** Parameter values by stage, then file, then dotted key. */
  params: Map<string, Record<string, Record<string, unknown>>>;
}

/** Whether path `a` is `b` or inside it (both `/`-separated, relative). */
export function within(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`);
}

function invalid(pipeline: Pipeline, message: string): TrestleError {
  const file = shownPath(pipeline.file);
  return new TrestleError('INVALID_ARGUMENT', `${file}: ${message}`, { file });
}

function readParams(pipeline: Pipeline): Map<string, Record<string, Record<string, unknown>>> {
  const files = new Map<string, unknown>();
  const out = new Map<string, Record<string, Record<string, unknown>>>();
  for (const stage of pipeline.stages) {
    const values: Record<string, Record<string, unknown>> = {};
    for (const ref of stage.params) {
      if (!files.has(ref.file)) {
        try {
          files.set(ref.file, readYaml(join(pipeline.root, ref.file), ref.file).value ?? {});
        } catch (err) {
          if (err instanceof TrestleError && err.code === 'NOT_FOUND') {
            throw invalid(pipeline, `stage '${stage.name}' reads parameters from ${ref.file}, which does not exist`);
          }
          throw err;
        }
      }
      const all = files.get(ref.file);
      const keys = ref.keys.length > 0 ? ref.keys : Object.keys((all as Record<string, unknown>) ?? {});
      const picked: Record<string, unknown> = (values[ref.file] ??= {});
      for (const key of keys) {
        const v = lookup(all, key);
        if (v === undefined) {
          throw invalid(pipeline, `stage '${stage.name}' needs parameter '${key}', which ${ref.file} does not define`);
        }
        picked[key] = v;
      }
    }
    out.set(stage.name, values);
  }
  return out;
}

/**
 * Validates a pipeline and orders it. Refused before anything runs, one clear message each:
 * two stages writing one output (or one inside the other), a dependency nobody produces that
 * does not exist, a cycle, a missing parameter key.
 */
export function buildGraph(pipeline: Pipeline): PipelineGraph {
  const { stages } = pipeline;
  const producers: [string, Stage][] = [];
  for (const stage of stages) {
    for (const out of stage.outs) {
      const clash = producers.find(([p]) => within(out, p) || within(p, out));
      if (clash !== undefined) {
        const [p, other] = clash;
        throw invalid(
          pipeline,
          other === stage
            ? `stage '${stage.name}' lists overlapping outputs '${p}' and '${out}'`
            : `stages '${other.name}' and '${stage.name}' both write '${p === out ? p : `${p}' / '${out}`}'; an output has one producer`,
        );
      }
      producers.push([out, stage]);
    }
  }
  const upstream = new Map<string, Set<string>>();
  const downstream = new Map<string, Set<string>>(stages.map((s) => [s.name, new Set<string>()]));
  for (const stage of stages) {
    const ups = new Set<string>();
    for (const dep of stage.deps) {
      const from = producers.filter(([out]) => within(dep, out) || within(out, dep)).map(([, s]) => s);
      if (from.length === 0 && !existsSync(join(pipeline.root, dep))) {
        throw invalid(
          pipeline,
          `stage '${stage.name}' depends on '${dep}', which no stage produces and which does not exist`,
        );
      }
      for (const s of from) {
        if (s === stage) throw invalid(pipeline, `stage '${stage.name}' depends on its own output '${dep}'`);
        ups.add(s.name);
        downstream.get(s.name)!.add(stage.name);
      }
    }
    upstream.set(stage.name, ups);
  }
  // Kahn's algorithm in file order; what is left over sits on a cycle.
  const byName = new Map(stages.map((s) => [s.name, s]));
  const indegree = new Map(stages.map((s) => [s.name, upstream.get(s.name)!.size]));
  const order: Stage[] = [];
  const ready = stages.filter((s) => indegree.get(s.name) === 0);
  while (ready.length > 0) {
    const s = ready.shift()!;
    order.push(s);
    for (const d of downstream.get(s.name)!) {
      indegree.set(d, indegree.get(d)! - 1);
      if (indegree.get(d) === 0) ready.push(byName.get(d)!);
    }
  }
  if (order.length < stages.length) {
    throw invalid(pipeline, `the stages form a cycle: ${findCycle(stages, upstream).join(' → ')}`);
  }
  return { pipeline, order, upstream, downstream, params: readParams(pipeline) };
}

function findCycle(stages: Stage[], upstream: Map<string, Set<string>>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    path.push(n);
    for (const u of upstream.get(n) ?? []) {
      if (state.get(u) === 'open') return [...path.slice(path.indexOf(u)), u].reverse();
      if (state.get(u) === undefined) {
        const c = visit(u);
        if (c !== undefined) return c;
      }
    }
    path.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const s of stages) {
    if (state.get(s.name) === undefined) {
      const c = visit(s.name);
      if (c !== undefined) return c;
    }
  }
  return [];
}

/**
 * The stages to run for `targets` (names, or a foreach/matrix group name such as `train` for
 * `train@a`, `train@b`) and everything upstream of them, in order; all stages when empty.
 */
export function selectStages(
  graph: PipelineGraph,
  targets: readonly string[],
  options: { upstream?: boolean } = {},
): Stage[] {
  if (targets.length === 0) return graph.order;
  const wanted = new Set<string>();
  const names = graph.order.map((s) => s.name);
  const add = (n: string): void => {
    if (wanted.has(n)) return;
    wanted.add(n);
    if (options.upstream === false) return;
    for (const u of graph.upstream.get(n) ?? []) add(u);
  };
  for (const t of targets) {
    const matches = names.filter((n) => n === t || n.startsWith(`${t}@`));
    if (matches.length === 0) {
      throw new TrestleError('NOT_FOUND', `no stage '${t}' in the pipeline (stages: ${names.join(', ')})`);
    }
    matches.forEach(add);
  }
  return graph.order.filter((s) => wanted.has(s.name));
}

/** The graph as text, one line per stage with what it waits for (`trestle dag`). */
export function describeGraph(graph: PipelineGraph): string {
  const lines: string[] = [];
  const depth = new Map<string, number>();
  for (const s of graph.order) {
    const d = Math.max(-1, ...[...graph.upstream.get(s.name)!].map((u) => depth.get(u)!)) + 1;
    depth.set(s.name, d);
    const ups = [...graph.upstream.get(s.name)!];
    lines.push(`${'  '.repeat(d)}${d > 0 ? '└─ ' : ''}${s.name}${ups.length > 1 ? `  (after ${ups.join(', ')})` : ''}`);
  }
  return lines.join('\n');
}
