/**
 * The parsed form of a search filter and an order-by clause. The grammar is MLflow's
 * (`comparison AND comparison …`) plus our extension: `OR` and parentheses.
 * Stores compile this tree to SQL; nothing filters in JavaScript.
 */

/** What an identifier refers to. `attribute` covers run/experiment columns. */
export type SearchEntity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset' | 'metadata';

export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/** `entity.key <op> value`; `position` is the 0-based offset of the identifier in the filter text. */
export interface Comparison {
  kind: 'comparison';
  entity: SearchEntity;
  /** Canonical key: attribute aliases are resolved (`created` → `start_time`). */
  key: string;
  op: Comparator;
  value: number | string | string[];
  position: number;
}

export interface BooleanExpr {
  kind: 'and' | 'or';
  operands: FilterExpr[];
}

export type FilterExpr = Comparison | BooleanExpr;

/** One `order_by` entry; runs lacking the key always sort last. */
export interface OrderBy {
  entity: SearchEntity;
  key: string;
  direction: 'ASC' | 'DESC';
}
