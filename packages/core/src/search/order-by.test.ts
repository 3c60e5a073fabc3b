import { describe, expect, it } from 'vitest';
import { isTrestleError, type TrestleError } from '../errors.js';
import type { OrderBy } from './ast.js';
import type { SearchTarget } from './filter.js';
import { parseOrderBy } from './order-by.js';

function orderByError(clauses: string[], target: SearchTarget = 'runs'): TrestleError {
  try {
    parseOrderBy(clauses, target);
  } catch (err) {
    if (isTrestleError(err)) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(clauses)} to be rejected`);
}

describe('parseOrderBy', () => {
  it.each([[undefined], [[]]])('%j gives no ordering', (clauses) => {
    expect(parseOrderBy(clauses, 'runs')).toEqual([]);
    expect(parseOrderBy(clauses, 'experiments')).toEqual([]);
  });

  it.each<[string, OrderBy]>([
    ['metrics.auc', { entity: 'metric', key: 'auc', direction: 'ASC' }],
    ['metrics.auc DESC', { entity: 'metric', key: 'auc', direction: 'DESC' }],
    ['metrics.auc desc', { entity: 'metric', key: 'auc', direction: 'DESC' }],
    ['metric.auc Asc', { entity: 'metric', key: 'auc', direction: 'ASC' }],
    ['  metrics.auc   DESC  ', { entity: 'metric', key: 'auc', direction: 'DESC' }],
    ['metrics."model class" DESC', { entity: 'metric', key: 'model class', direction: 'DESC' }],
    ['params.lr asc', { entity: 'param', key: 'lr', direction: 'ASC' }],
    ['parameters.lr', { entity: 'param', key: 'lr', direction: 'ASC' }],
    ['tags.`user-name` DESC', { entity: 'tag', key: 'user-name', direction: 'DESC' }],
    ['tags.mlflow.source.git.commit', { entity: 'tag', key: 'mlflow.source.git.commit', direction: 'ASC' }],
    ['start_time DESC', { entity: 'attribute', key: 'start_time', direction: 'DESC' }],
    ['created DESC', { entity: 'attribute', key: 'start_time', direction: 'DESC' }],
    ['attributes.Created', { entity: 'attribute', key: 'start_time', direction: 'ASC' }],
    ['`Run Name` ASC', { entity: 'attribute', key: 'run_name', direction: 'ASC' }],
    ['"run name" DESC', { entity: 'attribute', key: 'run_name', direction: 'DESC' }],
    ['run.status', { entity: 'attribute', key: 'status', direction: 'ASC' }],
    ['attr.user_id DESC', { entity: 'attribute', key: 'user_id', direction: 'DESC' }],
    ['attribute.end_time', { entity: 'attribute', key: 'end_time', direction: 'ASC' }],
    ['run_id', { entity: 'attribute', key: 'run_id', direction: 'ASC' }],
    ['artifact_uri', { entity: 'attribute', key: 'artifact_uri', direction: 'ASC' }],
  ])('runs: %s', (clause, expected) => {
    expect(parseOrderBy([clause], 'runs')).toEqual([expected]);
  });

  it.each<[string, OrderBy]>([
    ['name', { entity: 'attribute', key: 'name', direction: 'ASC' }],
    ['attributes.name DESC', { entity: 'attribute', key: 'name', direction: 'DESC' }],
    ['creation_time DESC', { entity: 'attribute', key: 'creation_time', direction: 'DESC' }],
    ['last_update_time asc', { entity: 'attribute', key: 'last_update_time', direction: 'ASC' }],
    ['experiment_id', { entity: 'attribute', key: 'experiment_id', direction: 'ASC' }],
  ])('experiments: %s', (clause, expected) => {
    expect(parseOrderBy([clause], 'experiments')).toEqual([expected]);
  });

  it('keeps the clauses in the order given', () => {
    expect(parseOrderBy(['metrics.auc DESC', 'params.lr', 'created DESC'], 'runs')).toEqual([
      { entity: 'metric', key: 'auc', direction: 'DESC' },
      { entity: 'param', key: 'lr', direction: 'ASC' },
      { entity: 'attribute', key: 'start_time', direction: 'DESC' },
    ]);
  });

  // [clause, target, position in the clause, token, part of the message]
  it.each<[string, SearchTarget, number, string, string]>([
    ['metrics.auc DESCENDING', 'runs', 12, 'DESCENDING', 'expected ASC, DESC or the end of the clause'],
    ['metrics.auc DESC ASC', 'runs', 17, 'ASC', 'expected the end of the clause'],
    ['metrics.auc, params.lr', 'runs', 11, ',', 'expected ASC, DESC'],
    ['metrics.auc > 1', 'runs', 12, '>', 'expected ASC, DESC'],
    ['', 'runs', 0, '', 'expected an identifier'],
    ['   ', 'runs', 3, '', 'expected an identifier'],
    ['DESC', 'runs', 0, 'DESC', 'expected an identifier'],
    ['datasets.name', 'runs', 0, 'datasets.name', 'datasets cannot be used to order run search results'],
    ['foo DESC', 'runs', 0, 'foo', "unknown attribute 'foo'"],
    ['bogus.x', 'runs', 0, 'bogus.x', "unknown entity 'bogus'"],
    ['metrics. DESC', 'runs', 0, 'metrics.', 'empty key'],
    ["metrics.'auc'", 'runs', 0, "metrics.'auc'", 'single-quoted'],
    ['metrics.`auc DESC', 'runs', 8, '`auc DESC', 'unterminated string'],
    ['tags.team', 'experiments', 0, 'tags.team', 'order by name, creation_time, last_update_time, experiment_id'],
    ['metrics.auc', 'experiments', 0, 'metrics.auc', 'experiment search cannot filter or order on metrics'],
    ['run_id', 'experiments', 0, 'run_id', "unknown attribute 'run_id'"],
  ])('rejects %j (%s)', (clause, target, position, token, fragment) => {
    const err = orderByError([clause], target);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.details).toEqual({ clause, index: 0, position, token });
    expect(err.message).toContain(`order_by clause '${clause}'`);
    expect(err.message).toContain(fragment);
    expect(err.message).toContain(`position ${position}`);
    expect(err.message).toContain(token);
  });

  it('names which clause of several is bad', () => {
    const err = orderByError(['metrics.auc DESC', 'start_time sideways']);
    expect(err.details).toEqual({ clause: 'start_time sideways', index: 1, position: 11, token: 'sideways' });
    expect(err.message).toContain("order_by clause 'start_time sideways'");
  });
});
