import type { FilterExpr } from './ast.js';

/** Which search a filter belongs to; each has its own identifiers and comparators. */
export type SearchTarget = 'runs' | 'experiments';

/**
 * Parses a search filter into a tree; an empty filter gives `undefined`.
 * A bad filter throws `INVALID_ARGUMENT` naming the offending token and its position.
 *
 * @example parseFilter("metrics.auc > 0.7 AND params.l2 = '0.1'", 'runs')
 */
export function parseFilter(filter: string | undefined, target: SearchTarget): FilterExpr | undefined {
  void filter;
  void target;
  throw new Error('parseFilter: being written');
}
