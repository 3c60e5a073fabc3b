import type { OrderBy } from './ast.js';
import type { SearchTarget } from './filter.js';

/**
 * Parses `order_by` clauses such as `metrics.auc DESC`.
 *
 * @example parseOrderBy(['metrics.auc DESC', 'start_time'], 'runs')
 */
export function parseOrderBy(clauses: readonly string[] | undefined, target: SearchTarget): OrderBy[] {
  void clauses;
  void target;
  throw new Error('parseOrderBy: being written');
}
