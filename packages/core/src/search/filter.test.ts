import { describe, expect, it } from 'vitest';
import { isTrestleError, type TrestleError } from '../errors.js';
import type { Comparator, Comparison, FilterExpr, SearchEntity } from './ast.js';
import { parseFilter, type SearchTarget } from './filter.js';

function cmp(entity: SearchEntity, key: string, op: Comparator, value: Comparison['value'], position = 0): Comparison {
  return { kind: 'comparison', entity, key, op, value, position };
}

const and = (...operands: FilterExpr[]): FilterExpr => ({ kind: 'and', operands });
const or = (...operands: FilterExpr[]): FilterExpr => ({ kind: 'or', operands });

function parseError(filter: string, target: SearchTarget = 'runs'): TrestleError {
  try {
    parseFilter(filter, target);
  } catch (err) {
    if (isTrestleError(err)) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(filter)} to be rejected`);
}

describe('parseFilter: empty input', () => {
  it.each([[undefined], [''], ['   '], ['\n\t ']])('%j gives undefined', (filter) => {
    expect(parseFilter(filter, 'runs')).toBeUndefined();
    expect(parseFilter(filter, 'experiments')).toBeUndefined();
  });
});

describe('parseFilter: the reference examples', () => {
  it.each<[string, FilterExpr]>([
    [
      "metrics.accuracy > 0.92 AND params.model = 'LogisticRegression'",
      and(cmp('metric', 'accuracy', '>', 0.92, 0), cmp('param', 'model', '=', 'LogisticRegression', 28)),
    ],
    ["attributes.status = 'FAILED'", cmp('attribute', 'status', '=', 'FAILED')],
    ["attributes.run_id IN ('a1','b2')", cmp('attribute', 'run_id', 'IN', ['a1', 'b2'])],
    ["tags.mlflow.source.git.commit LIKE '9f%'", cmp('tag', 'mlflow.source.git.commit', 'LIKE', '9f%')],
    ["datasets.digest = 's8ds293b'", cmp('dataset', 'digest', '=', 's8ds293b')],
    ['created > 1717000000000', cmp('attribute', 'start_time', '>', 1717000000000)],
  ])('%s', (filter, expected) => {
    expect(parseFilter(filter, 'runs')).toEqual(expected);
  });
});

describe('parseFilter: entity prefixes', () => {
  it.each<[string, SearchEntity, number | string]>([
    ['metric', 'metric', 1],
    ['metrics', 'metric', 1],
    ['METRICS', 'metric', 1],
    ['parameter', 'param', 'v'],
    ['parameters', 'param', 'v'],
    ['param', 'param', 'v'],
    ['params', 'param', 'v'],
    ['Params', 'param', 'v'],
    ['tag', 'tag', 'v'],
    ['tags', 'tag', 'v'],
  ])('%s.<key> is a %s', (prefix, entity, value) => {
    const literal = typeof value === 'number' ? String(value) : `'${value}'`;
    expect(parseFilter(`${prefix}.k = ${literal}`, 'runs')).toEqual(cmp(entity, 'k', '=', value));
  });

  it.each(['attribute', 'attributes', 'attr', 'run', 'Attributes'])('%s.<key> is an attribute', (prefix) => {
    expect(parseFilter(`${prefix}.user_id = 'ann'`, 'runs')).toEqual(cmp('attribute', 'user_id', '=', 'ann'));
  });

  it.each(['dataset', 'datasets'])('%s.<key> is a dataset', (prefix) => {
    expect(parseFilter(`${prefix}.name = 'train'`, 'runs')).toEqual(cmp('dataset', 'name', '=', 'train'));
  });
});

describe('parseFilter: run attributes and their aliases', () => {
  it.each<[string, string, Comparison['value']]>([
    ["run_id = 'r1'", 'run_id', 'r1'],
    ["run_name = 'blue-fox'", 'run_name', 'blue-fox'],
    ["user_id = 'ann'", 'user_id', 'ann'],
    ["status = 'RUNNING'", 'status', 'RUNNING'],
    ['start_time = 5', 'start_time', 5],
    ['end_time = 5', 'end_time', 5],
    ["artifact_uri = 's3://b/x'", 'artifact_uri', 's3://b/x'],
    ['created = 5', 'start_time', 5],
    ['Created = 5', 'start_time', 5],
    ['attributes.created = 5', 'start_time', 5],
    ['"run name" = \'x\'', 'run_name', 'x'],
    ["`Run name` = 'x'", 'run_name', 'x'],
    ['"Run Name" = \'x\'', 'run_name', 'x'],
    ['attributes."run name" = \'x\'', 'run_name', 'x'],
    ["run.`Run Name` = 'x'", 'run_name', 'x'],
  ])('%s → %s', (filter, key, value) => {
    expect(parseFilter(filter, 'runs')).toEqual(cmp('attribute', key, '=', value));
  });

  it.each(['name', 'digest', 'context'])('datasets.%s', (key) => {
    expect(parseFilter(`datasets.${key} = 'v'`, 'runs')).toEqual(cmp('dataset', key, '=', 'v'));
  });
});

describe('parseFilter: experiments', () => {
  it.each<[string, Comparison]>([
    ["name = 'churn'", cmp('attribute', 'name', '=', 'churn')],
    ["attributes.name LIKE 'ch%'", cmp('attribute', 'name', 'LIKE', 'ch%')],
    ['creation_time >= 1717000000000', cmp('attribute', 'creation_time', '>=', 1717000000000)],
    ['last_update_time < 5', cmp('attribute', 'last_update_time', '<', 5)],
    ["experiment_id = '7'", cmp('attribute', 'experiment_id', '=', '7')],
    ["tags.team ILIKE 'ML'", cmp('tag', 'team', 'ILIKE', 'ML')],
    ["tags.`owner-email` != 'a@b'", cmp('tag', 'owner-email', '!=', 'a@b')],
  ])('%s', (filter, expected) => {
    expect(parseFilter(filter, 'experiments')).toEqual(expected);
  });
});

describe('parseFilter: comparators per field', () => {
  const NUMERIC: Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
  const STRING: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
  const LIST: Comparator[] = [...STRING, 'IN', 'NOT IN'];
  const EVERY: Comparator[] = [...NUMERIC, 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

  // [target, identifier, entity, key, comparators allowed, literal type]
  const fields: [SearchTarget, string, SearchEntity, string, Comparator[], 'number' | 'string'][] = [
    ['runs', 'metrics.m', 'metric', 'm', NUMERIC, 'number'],
    ['runs', 'params.p', 'param', 'p', STRING, 'string'],
    ['runs', 'tags.t', 'tag', 't', STRING, 'string'],
    ['runs', 'run_id', 'attribute', 'run_id', LIST, 'string'],
    ['runs', 'run_name', 'attribute', 'run_name', STRING, 'string'],
    ['runs', 'user_id', 'attribute', 'user_id', STRING, 'string'],
    ['runs', 'status', 'attribute', 'status', STRING, 'string'],
    ['runs', 'artifact_uri', 'attribute', 'artifact_uri', STRING, 'string'],
    ['runs', 'start_time', 'attribute', 'start_time', NUMERIC, 'number'],
    ['runs', 'end_time', 'attribute', 'end_time', NUMERIC, 'number'],
    ['runs', 'created', 'attribute', 'start_time', NUMERIC, 'number'],
    ['runs', 'datasets.name', 'dataset', 'name', LIST, 'string'],
    ['runs', 'datasets.digest', 'dataset', 'digest', LIST, 'string'],
    ['runs', 'datasets.context', 'dataset', 'context', LIST, 'string'],
    ['experiments', 'name', 'attribute', 'name', STRING, 'string'],
    ['experiments', 'experiment_id', 'attribute', 'experiment_id', STRING, 'string'],
    ['experiments', 'creation_time', 'attribute', 'creation_time', NUMERIC, 'number'],
    ['experiments', 'last_update_time', 'attribute', 'last_update_time', NUMERIC, 'number'],
    ['experiments', 'tags.t', 'tag', 't', STRING, 'string'],
  ];
  const cases = fields.flatMap(([target, id, entity, key, allowed, type]) =>
    EVERY.map((op) => ({ target, id, entity, key, op, allowed: allowed.includes(op), type })),
  );

  it.each(cases)('$target: $id $op (allowed: $allowed)', ({ target, id, entity, key, op, allowed, type }) => {
    const isList = op === 'IN' || op === 'NOT IN';
    const literal = isList ? "('RUNNING', 'b')" : type === 'number' ? '42' : "'RUNNING'";
    const filter = `${id} ${op} ${literal}`;
    if (allowed) {
      const value = isList ? ['RUNNING', 'b'] : type === 'number' ? 42 : 'RUNNING';
      expect(parseFilter(filter, target)).toEqual(cmp(entity, key, op, value));
    } else {
      const err = parseError(filter, target);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain(`only support`);
      expect(err.message).toContain(`got ${op} at position ${id.length + 1}`);
      expect(err.details).toMatchObject({ position: id.length + 1, token: op });
    }
  });

  it.each<[string, Comparator]>([
    ["params.p like 'a%'", 'LIKE'],
    ["params.p iLike 'a%'", 'ILIKE'],
    ["run_id in ('a')", 'IN'],
    ["run_id not in ('a')", 'NOT IN'],
    ["run_id Not  In ('a')", 'NOT IN'],
  ])('keywords are case-insensitive: %s', (filter, op) => {
    expect(parseFilter(filter, 'runs')).toMatchObject({ op });
  });

  it.each<[string, Comparator]>([
    ['metrics.m>1', '>'],
    ['metrics.m>=1', '>='],
    ['metrics.m<=-1', '<='],
    ["params.p!='x'", '!='],
  ])('comparators need no surrounding spaces: %s', (filter, op) => {
    expect(parseFilter(filter, 'runs')).toMatchObject({ op });
  });

  it('checks status values on = and != but not on LIKE', () => {
    expect(parseFilter("status != 'KILLED'", 'runs')).toEqual(cmp('attribute', 'status', '!=', 'KILLED'));
    expect(parseFilter("status LIKE 'FIN%'", 'runs')).toEqual(cmp('attribute', 'status', 'LIKE', 'FIN%'));
    for (const status of ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']) {
      expect(parseFilter(`status = '${status}'`, 'runs')).toEqual(cmp('attribute', 'status', '=', status));
    }
  });
});

describe('parseFilter: literals and quoting', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['42', 42],
    ['-1', -1],
    ['+2', 2],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['3.', 3],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['-1.5e+2', -150],
    ['1717000000000', 1717000000000],
  ])('number %s', (literal, value) => {
    expect(parseFilter(`metrics.m = ${literal}`, 'runs')).toEqual(cmp('metric', 'm', '=', value));
  });

  it.each<[string, string]>([
    ["'plain'", 'plain'],
    ['"double"', 'double'],
    ["''", ''],
    ["'it''s'", "it's"],
    ["'it\\'s'", "it's"],
    ['"say ""hi"""', 'say "hi"'],
    ['"say \\"hi\\""', 'say "hi"'],
    ["'a\\\\b'", 'a\\b'],
    ["'10\\%'", '10\\%'],
    ["'has AND and ( ) = inside'", 'has AND and ( ) = inside'],
  ])('string %s', (literal, value) => {
    expect(parseFilter(`params.p = ${literal}`, 'runs')).toEqual(cmp('param', 'p', '=', value));
  });

  it.each<[string, SearchEntity, string]>([
    ['metrics."model class" > 1', 'metric', 'model class'],
    ['metrics.`model class` > 1', 'metric', 'model class'],
    ['metrics.val-loss > 1', 'metric', 'val-loss'],
    ['metrics.loss/val:2 > 1', 'metric', 'loss/val:2'],
    ["tags.`user-name` = 'x'", 'tag', 'user-name'],
    ["tags.mlflow.source.git.commit = 'x'", 'tag', 'mlflow.source.git.commit'],
    ['tags."a.b" = \'x\'', 'tag', 'a.b'],
    ["tags.`it``s` = 'x'", 'tag', 'it`s'],
    ['params."and" = \'x\'', 'param', 'and'],
    ["params.AND = 'x'", 'param', 'AND'],
  ])('key %s', (filter, entity, key) => {
    expect(parseFilter(filter, 'runs')).toMatchObject({ entity, key });
  });
});

describe('parseFilter: AND, OR and parentheses', () => {
  const a = "params.a = 'x'";
  const b = "params.b = 'x'";
  const c = "params.c = 'x'";
  const d = "params.d = 'x'";
  const A = cmp('param', 'a', '=', 'x');
  const B = cmp('param', 'b', '=', 'x');
  const C = cmp('param', 'c', '=', 'x');
  const D = cmp('param', 'd', '=', 'x');
  const at = (expr: Comparison, filter: string): Comparison => ({
    ...expr,
    position: filter.indexOf(`params.${expr.key}`),
  });

  it.each<[string, (f: string) => FilterExpr]>([
    [`${a} AND ${b} OR ${c}`, (f) => or(and(at(A, f), at(B, f)), at(C, f))],
    [`${a} OR ${b} AND ${c}`, (f) => or(at(A, f), and(at(B, f), at(C, f)))],
    [`${a} and ${b} or ${c}`, (f) => or(and(at(A, f), at(B, f)), at(C, f))],
    [`(${a} OR ${b}) AND ${c}`, (f) => and(or(at(A, f), at(B, f)), at(C, f))],
    [`${a} AND (${b} OR ${c})`, (f) => and(at(A, f), or(at(B, f), at(C, f)))],
    [`${a} AND ${b} AND ${c}`, (f) => and(at(A, f), at(B, f), at(C, f))],
    [`${a} AND (${b} AND ${c})`, (f) => and(at(A, f), at(B, f), at(C, f))],
    [`(${a} AND ${b}) AND ${c}`, (f) => and(at(A, f), at(B, f), at(C, f))],
    [`${a} OR ${b} OR ${c}`, (f) => or(at(A, f), at(B, f), at(C, f))],
    [`(${a} OR ${b}) OR (${c} OR ${d})`, (f) => or(at(A, f), at(B, f), at(C, f), at(D, f))],
    [`(${a} AND ${b}) OR (${c} AND ${d})`, (f) => or(and(at(A, f), at(B, f)), and(at(C, f), at(D, f)))],
    [`((${a}))`, (f) => at(A, f)],
    [`(${a})AND(${b})`, (f) => and(at(A, f), at(B, f))],
    [`((${a} OR ${b}) AND ${c}) OR ${d}`, (f) => or(and(or(at(A, f), at(B, f)), at(C, f)), at(D, f))],
  ])('%s', (filter, expected) => {
    expect(parseFilter(filter, 'runs')).toEqual(expected(filter));
  });

  it('records each comparison at the offset of its identifier', () => {
    const filter = "  metrics.a > 1 AND\n(tags.`b c` = 'x' OR created < 2)";
    expect(parseFilter(filter, 'runs')).toEqual(
      and(
        cmp('metric', 'a', '>', 1, 2),
        or(cmp('tag', 'b c', '=', 'x', 21), cmp('attribute', 'start_time', '<', 2, 41)),
      ),
    );
  });
});

describe('parseFilter: bad filters', () => {
  const deep = `${'('.repeat(100)}metrics.a > 1${')'.repeat(100)}`;

  // [filter, target, position, token, part of the message]
  it.each<[string, SearchTarget, number, string, string]>([
    ['metrics.accuracy BETWEEN 1 AND 2', 'runs', 17, 'BETWEEN', 'expected a comparator (=, !=, >, >=, <, <=)'],
    ["metrics.acc LIKE '%'", 'runs', 12, 'LIKE', 'metrics only support =, !=, >, >=, <, <=; got LIKE at position 12'],
    [
      "foo = 'x'",
      'runs',
      0,
      'foo',
      "unknown attribute 'foo' at position 0; searchable attributes are run_id, run_name",
    ],
    ["bogus.x = 'y'", 'runs', 0, 'bogus.x', "unknown entity 'bogus'"],
    ["datasets.size = 'x'", 'runs', 0, 'datasets.size', 'dataset keys are name, digest, context'],
    ["params.a = 'x' AND (metrics.b > 1", 'runs', 33, '', "')' to close the '(' at position 19"],
    ['metrics.a > 1)', 'runs', 13, ')', "no matching '('"],
    ['()', 'runs', 1, ')', 'expected an identifier'],
    ["metrics.a > 1 params.b = 'x'", 'runs', 14, 'params.b', 'expected AND, OR or the end of the filter'],
    ["params.a = 'x';", 'runs', 14, ';', 'expected AND, OR or the end of the filter'],
    ['metrics.a > 1;', 'runs', 12, '1;', 'expected a number'],
    ["params.a = 'abc", 'runs', 11, "'abc", 'unterminated string'],
    ['tags."abc = 1', 'runs', 5, '"abc = 1', 'unterminated string'],
    ["metrics.a = '1'", 'runs', 12, "'1'", 'metrics compare with numbers'],
    ["start_time > '2024-01-01'", 'runs', 13, "'2024-01-01'", "attribute 'start_time' compares with numbers"],
    ['params.a = 1', 'runs', 11, '1', 'params compare with quoted strings'],
    ['params.a = abc', 'runs', 11, 'abc', 'expected a quoted string'],
    ['metrics.a > abc', 'runs', 12, 'abc', 'expected a number'],
    ['metrics.a > 1e999', 'runs', 12, '1e999', 'expected a number'],
    ['params.x = `y`', 'runs', 11, '`y`', 'backticks quote keys, not values'],
    ['metrics. > 1', 'runs', 0, 'metrics.', 'empty key'],
    ['tags."" = \'x\'', 'runs', 0, 'tags.""', 'empty key'],
    ["tags.'x' = 'y'", 'runs', 0, "tags.'x'", 'single-quoted'],
    ["'x' = 'y'", 'runs', 0, "'x'", 'expected an identifier'],
    ["user_id IN ('a')", 'runs', 8, 'IN', 'IN and NOT IN work only on attributes.run_id and datasets'],
    ["tags.t NOT IN ('a')", 'runs', 7, 'NOT IN', 'tags only support =, !=, LIKE, ILIKE'],
    ['metrics.a IN (1, 2)', 'runs', 10, 'IN', 'metrics only support'],
    ["datasets.name NOT LIKE 'x'", 'runs', 18, 'LIKE', 'expected IN after NOT'],
    ['run_id IN ()', 'runs', 11, ')', 'an IN list cannot be empty'],
    ["run_id IN ('a', 'b',)", 'runs', 20, ')', 'expected a quoted string'],
    ["run_id IN ('a' 'b')", 'runs', 15, "'b'", "expected ',' or ')' to close the list opened at position 10"],
    ["run_id IN ('a'", 'runs', 14, '', "expected ',' or ')'"],
    ["run_id IN 'a'", 'runs', 10, "'a'", "a parenthesised list such as ('a', 'b')"],
    ["run_id = ('a')", 'runs', 9, '(', 'expected a quoted string'],
    ["status = 'DONE'", 'runs', 9, "'DONE'", 'expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED'],
    ["status = 'failed'", 'runs', 9, "'failed'", "values are upper-case: 'FAILED'"],
    ['metrics.a > 1 AND', 'runs', 17, '', 'expected an identifier'],
    ['AND metrics.a > 1', 'runs', 0, 'AND', 'expected an identifier'],
    ['metrics.a > 1 OR OR metrics.b > 1', 'runs', 17, 'OR', 'expected an identifier'],
    ['metrics.a <> 1', 'runs', 10, '<>', 'expected a comparator'],
    ['metrics.a == 1', 'runs', 10, '==', 'expected a comparator'],
    ['metrics.a', 'runs', 9, '', 'expected a comparator'],
    ['metrics.a >', 'runs', 11, '', 'expected a number'],
    [deep, 'runs', 64, '(', 'deeper than 64 levels'],
    ['metrics.a > 1', 'experiments', 0, 'metrics.a', 'experiment search cannot filter or order on metrics'],
    ["params.a = 'x'", 'experiments', 0, 'params.a', 'experiment search cannot filter or order on params'],
    ["datasets.name = 'x'", 'experiments', 0, 'datasets.name', 'it accepts attributes or tags'],
    ["run_id = 'x'", 'experiments', 0, 'run_id', 'searchable attributes are name, creation_time, last_update_time'],
    ["experiment_id IN ('1')", 'experiments', 14, 'IN', "attribute 'experiment_id' only supports =, !=, LIKE, ILIKE"],
    ["creation_time LIKE '1%'", 'experiments', 14, 'LIKE', "attribute 'creation_time' only supports"],
  ])('%j (%s)', (filter, target, position, token, fragment) => {
    const err = parseError(filter, target);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.details).toEqual({ position, token });
    expect(err.message).toContain(fragment);
    expect(err.message).toContain(`position ${position}`);
    expect(err.message).toContain(token.length > 40 ? token.slice(0, 40) : token);
  });

  it('never fails with anything but INVALID_ARGUMENT on junk', () => {
    const junk = [
      '=',
      "'",
      '"',
      '`',
      '(',
      ')',
      ',',
      '!',
      'NOT',
      'IN',
      '((',
      "metrics.a > 1 AND ('x')",
      '.',
      '..',
      '.x = 1',
    ];
    for (const filter of junk) expect(parseError(filter).code).toBe('INVALID_ARGUMENT');
  });
});
