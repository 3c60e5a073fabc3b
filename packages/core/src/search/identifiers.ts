import { RUN_STATUSES } from '../run.js';
import type { Comparator, SearchEntity } from './ast.js';
import type { TokenStream } from './lexer.js';
import { isReserved } from './lexer.js';
import type { ParseContext } from './parse-error.js';
import { searchError, syntaxError } from './parse-error.js';

/** Which search a filter belongs to; each has its own identifiers and comparators. */
export type SearchTarget = 'runs' | 'experiments' | 'registered_models' | 'model_versions' | 'logged_models' | 'traces';

/** What one searchable field accepts. */
export interface FieldRule {
  /** Comparators allowed on the field, in the order messages list them. */
  readonly comparators: readonly Comparator[];
  /** Type of the literal on the right; `IN` lists are always lists of strings. */
  readonly value: 'number' | 'string';
  /** When set, `=` and `!=` only accept these values (run status). */
  readonly oneOf?: readonly string[];
  /** Whether the field may appear in `order_by`. */
  readonly orderable: boolean;
}

/** Metrics, params and tags: any key, one rule. */
interface OpenEntity {
  readonly open: true;
  readonly rule: FieldRule;
}

/** Attributes and datasets: a closed set of keys, with aliases for some. */
interface ClosedEntity {
  readonly open: false;
  readonly fields: ReadonlyMap<string, FieldRule>;
  readonly aliases: ReadonlyMap<string, string>;
}

type EntityFields = OpenEntity | ClosedEntity;

interface TargetFields {
  /** Names the search in messages. */
  readonly name: string;
  /** What a reader can write instead, for "expected an identifier" messages. */
  readonly example: string;
  readonly entities: Readonly<Partial<Record<SearchEntity, EntityFields>>>;
  /** Entity prefixes of this search only (trace search's `trace.` and `metadata.`), before the shared ones. */
  readonly prefixes?: ReadonlyMap<string, SearchEntity>;
}

const NUMERIC: FieldRule = { comparators: ['=', '!=', '>', '>=', '<', '<='], value: 'number', orderable: true };
const STRING: FieldRule = { comparators: ['=', '!=', 'LIKE', 'ILIKE'], value: 'string', orderable: true };
const STRING_OR_LIST: FieldRule = { ...STRING, comparators: [...STRING.comparators, 'IN', 'NOT IN'] };
const RUN_STATUS: FieldRule = { ...STRING, oneOf: RUN_STATUSES };
const DATASET: FieldRule = { ...STRING_OR_LIST, orderable: false };
const UNORDERABLE_STRING: FieldRule = { ...STRING, orderable: false };

const open = (rule: FieldRule): OpenEntity => ({ open: true, rule });
const closed = (fields: Record<string, FieldRule>, aliases: Record<string, string> = {}): ClosedEntity => ({
  open: false,
  fields: new Map(Object.entries(fields)),
  aliases: new Map(Object.entries(aliases)),
});

/**
 * The one table of what each search can filter and order on. MLflow's run-search rules
 * (`mlflow/utils/search_utils.py`) for runs; `name`, the two times, `experiment_id` and
 * tags for experiments.
 */
const SEARCH_FIELDS: Readonly<Record<SearchTarget, TargetFields>> = {
  runs: {
    name: 'run search',
    example: 'an identifier such as metrics.accuracy, params.model, tags."my key" or an attribute like status',
    entities: {
      metric: open(NUMERIC),
      param: open(STRING),
      tag: open(STRING),
      attribute: closed(
        {
          run_id: STRING_OR_LIST,
          run_name: STRING,
          user_id: STRING,
          status: RUN_STATUS,
          start_time: NUMERIC,
          end_time: NUMERIC,
          artifact_uri: STRING,
        },
        {
          created: 'start_time',
          Created: 'start_time',
          'run name': 'run_name',
          'Run name': 'run_name',
          'Run Name': 'run_name',
        },
      ),
      dataset: closed({ name: DATASET, digest: DATASET, context: DATASET }),
    },
  },
  experiments: {
    name: 'experiment search',
    example: 'an identifier such as name, creation_time or tags.<key>',
    entities: {
      attribute: closed({
        name: STRING,
        creation_time: NUMERIC,
        last_update_time: NUMERIC,
        experiment_id: STRING,
      }),
      tag: open(UNORDERABLE_STRING),
    },
  },
  // MLflow's registry searches (`mlflow/utils/search_utils.py`, SearchModelUtils and
  // SearchModelVersionUtils): names, times and tags; run ids also with IN.
  registered_models: {
    name: 'registered model search',
    example: 'an identifier such as name or tags.<key>',
    entities: {
      attribute: closed(
        { name: STRING, creation_timestamp: NUMERIC, last_updated_timestamp: NUMERIC },
        {
          timestamp: 'creation_timestamp',
          creation_time: 'creation_timestamp',
          last_updated_time: 'last_updated_timestamp',
        },
      ),
      tag: open(UNORDERABLE_STRING),
    },
  },
  model_versions: {
    name: 'model version search',
    example: 'an identifier such as name, version_number, run_id, source_path or tags.<key>',
    entities: {
      attribute: closed(
        {
          name: STRING,
          version_number: NUMERIC,
          run_id: STRING_OR_LIST,
          source_path: STRING,
          current_stage: STRING,
          creation_timestamp: NUMERIC,
          last_updated_timestamp: NUMERIC,
        },
        {
          version: 'version_number',
          timestamp: 'creation_timestamp',
          creation_time: 'creation_timestamp',
          last_updated_time: 'last_updated_timestamp',
          source: 'source_path',
        },
      ),
      tag: open(UNORDERABLE_STRING),
    },
  },
  // MLflow 3's logged models (`SearchLoggedModelsUtils`): attributes, metrics, params and tags.
  logged_models: {
    name: 'logged model search',
    example: 'an identifier such as name, metrics.accuracy, params.alpha or tags.<key>',
    entities: {
      attribute: closed(
        {
          name: STRING,
          model_id: STRING_OR_LIST,
          model_type: STRING,
          status: STRING,
          source_run_id: STRING_OR_LIST,
          creation_timestamp: NUMERIC,
          last_updated_timestamp: NUMERIC,
        },
        {
          creation_time: 'creation_timestamp',
          creation_timestamp_ms: 'creation_timestamp',
          last_updated_timestamp_ms: 'last_updated_timestamp',
          run_id: 'source_run_id',
        },
      ),
      metric: open(NUMERIC),
      param: open(STRING),
      tag: open(STRING),
    },
  },
  // MLflow Tracing's trace search (`SearchTraceUtils`): `trace.`/`attributes.` columns,
  // tags and request metadata (`metadata.mlflow.sourceRun = '…'`, as MLflow clients send).
  traces: {
    name: 'trace search',
    example: 'an identifier such as trace.status, timestamp_ms, tags.<key> or metadata.<key>',
    entities: {
      attribute: closed(
        {
          trace_id: STRING_OR_LIST,
          timestamp_ms: NUMERIC,
          execution_time_ms: NUMERIC,
          status: STRING,
          name: STRING,
          client_request_id: STRING,
        },
        {
          request_id: 'trace_id',
          timestamp: 'timestamp_ms',
          request_time: 'timestamp_ms',
          execution_time: 'execution_time_ms',
          execution_duration: 'execution_time_ms',
          state: 'status',
        },
      ),
      tag: open(UNORDERABLE_STRING),
      metadata: open(UNORDERABLE_STRING),
    },
    prefixes: new Map<string, SearchEntity>([
      ['trace', 'attribute'],
      ['metadata', 'metadata'],
      ['request_metadata', 'metadata'],
    ]),
  },
};

/** Prefix before the first `.` → entity; matched case-insensitively. */
const ENTITY_PREFIXES: ReadonlyMap<string, SearchEntity> = new Map([
  ['metric', 'metric'],
  ['metrics', 'metric'],
  ['parameter', 'param'],
  ['parameters', 'param'],
  ['param', 'param'],
  ['params', 'param'],
  ['tag', 'tag'],
  ['tags', 'tag'],
  ['attribute', 'attribute'],
  ['attributes', 'attribute'],
  ['attr', 'attribute'],
  ['run', 'attribute'],
  ['dataset', 'dataset'],
  ['datasets', 'dataset'],
]);

const ENTITY_PLURAL: Readonly<Record<SearchEntity, string>> = {
  metric: 'metrics',
  param: 'params',
  tag: 'tags',
  attribute: 'attributes',
  dataset: 'datasets',
  metadata: 'metadata',
};

/** An identifier read from the source and checked against the table. */
export interface Field {
  readonly entity: SearchEntity;
  /** Canonical key: aliases resolved, quotes removed. */
  readonly key: string;
  readonly rule: FieldRule;
  /** How messages name the field: `metrics`, `attribute 'status'`. */
  readonly label: string;
  /** Whether `label` is plural (`metrics only support`, `attribute 'x' only supports`). */
  readonly plural: boolean;
  /** The identifier as written, and where. */
  readonly position: number;
  readonly text: string;
}

/**
 * Reads `<entity>.<key>` (or a bare attribute) at the stream's cursor and resolves it for
 * `target`: keys may be quoted with `"…"` or `` `…` ``; an unquoted key runs to the next
 * whitespace or comparator and may contain dots.
 *
 * @example readField(stream, 'runs', ctx, 'filter') // tags.mlflow.user → { entity: 'tag', key: 'mlflow.user', … }
 */
export function readField(
  stream: TokenStream,
  target: SearchTarget,
  ctx: ParseContext,
  use: 'filter' | 'order_by',
): Field {
  const { prefix, key, position, text } = readIdentifier(stream, target, ctx);
  const at = { position, text };
  const spec = SEARCH_FIELDS[target];

  let entity: SearchEntity = 'attribute';
  if (prefix !== undefined) {
    const named = spec.prefixes?.get(prefix.toLowerCase()) ?? ENTITY_PREFIXES.get(prefix.toLowerCase());
    if (named === undefined) {
      throw searchError(
        ctx,
        `unknown entity '${prefix}' in '${text}' at position ${position}; ` +
          `${spec.name} accepts ${allowedPrefixes(target)} before the dot, or an attribute with no prefix`,
        at,
      );
    }
    entity = named;
  }

  const fields = spec.entities[entity];
  if (fields === undefined) {
    throw searchError(
      ctx,
      `${spec.name} cannot filter or order on ${ENTITY_PLURAL[entity]} ('${text}' at position ${position}); ` +
        `it accepts ${allowedPrefixes(target)}`,
      at,
    );
  }
  if (key === '') {
    const shown = prefix ?? 'attributes';
    throw searchError(
      ctx,
      `empty key in '${text}' at position ${position}; write ${shown}.<key>, quoting special characters as ${shown}."my key"`,
      at,
    );
  }

  let canonical = key;
  let rule: FieldRule;
  if (fields.open) {
    rule = fields.rule;
  } else {
    canonical = fields.aliases.get(key) ?? key;
    const found = fields.fields.get(canonical);
    if (found === undefined) {
      const what = entity === 'dataset' ? 'dataset key' : 'attribute';
      const written = text === key ? '' : ` in '${text}'`;
      throw searchError(
        ctx,
        `unknown ${what} '${key}'${written} at position ${position}; ${searchableList(fields, entity)}`,
        at,
      );
    }
    rule = found;
  }

  const plural = entity !== 'attribute';
  const label = plural ? ENTITY_PLURAL[entity] : `attribute '${key}'`;
  if (use === 'order_by' && !rule.orderable) {
    throw searchError(
      ctx,
      `${label} cannot be used to order ${spec.name} results ('${text}' at position ${position}); ` +
        `order by ${orderableList(target)}`,
      at,
    );
  }
  return { entity, key: canonical, rule, label, plural, position, text };
}

interface RawIdentifier {
  readonly prefix: string | undefined;
  readonly key: string;
  readonly position: number;
  readonly text: string;
}

function readIdentifier(stream: TokenStream, target: SearchTarget, ctx: ParseContext): RawIdentifier {
  const first = stream.peek();
  if (first.kind === 'string' && first.quote !== "'") {
    stream.next();
    return { prefix: undefined, key: first.value, position: first.position, text: first.text };
  }
  if (first.kind !== 'word' || isReserved(first)) {
    const hint = first.quote === "'" ? ' (single quotes make a string value; quote keys with "…" or `…`)' : '';
    throw syntaxError(ctx, first, SEARCH_FIELDS[target].example + hint);
  }
  stream.next();

  const quoted = stream.peek();
  if (first.text.endsWith('.') && quoted.kind === 'string' && quoted.position === first.end) {
    const text = first.text + quoted.text;
    if (quoted.quote === "'") {
      throw searchError(
        ctx,
        `key ${quoted.text} in '${text}' at position ${first.position} is single-quoted; quote keys with "…" or \`…\``,
        { position: first.position, text },
      );
    }
    stream.next();
    return { prefix: first.text.slice(0, -1), key: quoted.value, position: first.position, text };
  }

  const dot = first.text.indexOf('.');
  return dot === -1
    ? { prefix: undefined, key: first.text, position: first.position, text: first.text }
    : {
        prefix: first.text.slice(0, dot),
        key: first.text.slice(dot + 1),
        position: first.position,
        text: first.text,
      };
}

function allowedPrefixes(target: SearchTarget): string {
  const entities = Object.keys(SEARCH_FIELDS[target].entities) as SearchEntity[];
  const names = entities.map((e) => ENTITY_PLURAL[e]);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}` : names.join('');
}

function searchableList(fields: ClosedEntity, entity: SearchEntity): string {
  const keys = [...fields.fields.keys()].join(', ');
  const aliases = [...fields.aliases].map(([alias, key]) => `${quoteKey(alias)} → ${key}`).join(', ');
  const head = entity === 'dataset' ? `dataset keys are ${keys}` : `searchable attributes are ${keys}`;
  return aliases === '' ? head : `${head} (aliases: ${aliases})`;
}

function orderableList(target: SearchTarget): string {
  const names: string[] = [];
  for (const [entity, fields] of Object.entries(SEARCH_FIELDS[target].entities) as [SearchEntity, EntityFields][]) {
    if (fields.open) {
      if (fields.rule.orderable) names.push(`${ENTITY_PLURAL[entity]}.<key>`);
    } else {
      for (const [key, rule] of fields.fields) if (rule.orderable) names.push(key);
    }
  }
  return names.join(', ');
}

function quoteKey(key: string): string {
  return /\s/.test(key) ? `"${key}"` : key;
}

/** Lists a rule's comparators for messages: `=, !=, LIKE, ILIKE`. */
export function comparatorList(rule: FieldRule): string {
  return rule.comparators.join(', ');
}

/**
 * The rule of one field of a search (after aliases: `created` is `start_time`), or `undefined`
 * when the search has no such field. Stores compile from this, so the parser and the SQL agree.
 *
 * @example searchFieldRule('runs', 'attribute', 'start_time')?.value // 'number'
 */
export function searchFieldRule(target: SearchTarget, entity: SearchEntity, key: string): FieldRule | undefined {
  const fields = SEARCH_FIELDS[target].entities[entity];
  if (fields === undefined) return undefined;
  if (fields.open) return fields.rule;
  return fields.fields.get(fields.aliases.get(key) ?? key);
}

/**
 * The keys of a closed entity of a search (its attributes, datasets), for messages; `[]` for an
 * open one (metrics, params, tags) or one the search does not have.
 *
 * @example searchFieldNames('experiments', 'attribute') // ['name', 'creation_time', 'last_update_time', 'experiment_id']
 */
export function searchFieldNames(target: SearchTarget, entity: SearchEntity): string[] {
  const fields = SEARCH_FIELDS[target].entities[entity];
  return fields === undefined || fields.open ? [] : [...fields.fields.keys()];
}
