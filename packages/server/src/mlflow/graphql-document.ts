/**
 * A parser of GraphQL executable documents (operations and fragments, as in the GraphQL spec's
 * "Executable Definitions"), enough for the queries MLflow's web UI and tests send to `/graphql`:
 * named or anonymous `query` / `mutation` operations, variable definitions with defaults,
 * directives, aliases, arguments of every literal kind, fragment spreads and inline fragments.
 * Type-system definitions and subscriptions are refused. Errors say where they are.
 */

/** A value as written in the document, variables unresolved. */
export type GqlValue =
  | { kind: 'variable'; name: string }
  | { kind: 'int' | 'float' | 'string' | 'enum'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'list'; values: GqlValue[] }
  | { kind: 'object'; fields: Map<string, GqlValue> };

/** `@name(args)`. */
interface GqlDirective {
  name: string;
  args: Map<string, GqlValue>;
}

/** A field, a fragment spread or an inline fragment. */
export type GqlSelection =
  | {
      kind: 'field';
      alias: string | undefined;
      name: string;
      args: Map<string, GqlValue>;
      directives: GqlDirective[];
      selections: GqlSelection[] | undefined;
    }
  | { kind: 'spread'; name: string; directives: GqlDirective[] }
  | { kind: 'inline'; typeCondition: string | undefined; directives: GqlDirective[]; selections: GqlSelection[] };

/** `$name: Type = default`. */
interface GqlVariableDefinition {
  name: string;
  type: string;
  defaultValue: GqlValue | undefined;
}

/** An operation of the document. */
export interface GqlOperation {
  operation: 'query' | 'mutation';
  name: string | undefined;
  variables: GqlVariableDefinition[];
  selections: GqlSelection[];
}

/** A parsed executable document. */
export interface GqlDocument {
  operations: GqlOperation[];
  fragments: Map<string, { typeCondition: string; selections: GqlSelection[] }>;
}

/** A syntax error, with GraphQL's wording (`Syntax Error: … (line:column)`). */
export class GraphqlSyntaxError extends Error {}

type Token =
  | { kind: 'punct'; value: string; at: number }
  | { kind: 'name'; value: string; at: number }
  | { kind: 'int' | 'float' | 'string'; value: string; at: number }
  | { kind: 'eof'; value: ''; at: number };

function position(source: string, at: number): string {
  const before = source.slice(0, at).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const fail = (at: number, why: string): never => {
    throw new GraphqlSyntaxError(`Syntax Error: ${why} (${position(source, at)})`);
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/[\s,\uFEFF]/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (source.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...', at: i });
      i += 3;
    } else if ('!$&()[]{}:=@|'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, at: i });
      i++;
    } else if (/[_A-Za-z]/.test(c)) {
      const name = /^[_A-Za-z][_0-9A-Za-z]*/.exec(source.slice(i))![0];
      tokens.push({ kind: 'name', value: name, at: i });
      i += name.length;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(i));
      if (m === null) return fail(i, `Invalid number, unexpected digit after ${c}.`);
      tokens.push({ kind: m[1] || m[2] ? 'float' : 'int', value: m[0], at: i });
      i += m[0].length;
    } else if (source.startsWith('"""', i)) {
      const end = source.indexOf('"""', i + 3);
      if (end < 0) return fail(i, 'Unterminated string.');
      tokens.push({ kind: 'string', value: blockString(source.slice(i + 3, end)), at: i });
      i = end + 3;
    } else if (c === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const d = source[j];
        if (d === undefined || d === '\n' || d === '\r') return fail(i, 'Unterminated string.');
        if (d === '"') break;
        if (d === '\\') {
          const e = source[j + 1] ?? '';
          if (e === 'u') {
            const hex = source.slice(j + 2, j + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail(j, `Invalid Unicode escape sequence: '\\u${hex}'.`);
            value += String.fromCharCode(parseInt(hex, 16));
            j += 6;
            continue;
          }
          const escaped = ESCAPES[e];
          if (escaped === undefined) return fail(j, `Invalid character escape sequence: '\\${e}'.`);
          value += escaped;
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: 'string', value, at: i });
      i = j + 1;
    } else {
      fail(i, `Unexpected character: '${c}'.`);
    }
  }
  tokens.push({ kind: 'eof', value: '', at: source.length });
  return tokens;
}

// The spec's BlockStringValue: common indentation and blank first/last lines removed.
function blockString(raw: string): string {
  const lines = raw.replace(/\\"""/g, '"""').split(/\r\n|[\n\r]/);
  const indents = lines
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => /^[ \t]*/.exec(l)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  const out = lines.map((l, n) => (n === 0 ? l : l.slice(common)));
  while (out.length > 0 && out[0]!.trim() === '') out.shift();
  while (out.length > 0 && out.at(-1)!.trim() === '') out.pop();
  return out.join('\n');
}

/**
 * Parses an executable GraphQL document.
 *
 * @throws GraphqlSyntaxError naming the unexpected token and its line and column.
 * @example parseGraphql('query Q($d: MlflowGetRunInput!) { mlflowGetRun(input: $d) { run { info { runId } } } }')
 */
export function parseGraphql(source: string): GqlDocument {
  const tokens = tokenize(source);
  let p = 0;
  const peek = (): Token => tokens[p]!;
  const describe = (t: Token): string =>
    t.kind === 'eof'
      ? '<EOF>'
      : t.kind === 'string'
        ? 'String'
        : t.kind === 'name'
          ? `Name '${t.value}'`
          : `'${t.value}'`;
  const fail = (t: Token, expected: string): never => {
    throw new GraphqlSyntaxError(
      `Syntax Error: Expected ${expected}, found ${describe(t)}. (${position(source, t.at)})`,
    );
  };
  const isPunct = (value: string): boolean => peek().kind === 'punct' && peek().value === value;
  const punct = (value: string): void => {
    if (!isPunct(value)) fail(peek(), `'${value}'`);
    p++;
  };
  const name = (): string => {
    const t = peek();
    if (t.kind !== 'name') return fail(t, 'Name');
    p++;
    return t.value;
  };

  const value = (constant: boolean): GqlValue => {
    const t = peek();
    if (t.kind === 'punct' && t.value === '$' && !constant) {
      p++;
      return { kind: 'variable', name: name() };
    }
    if (t.kind === 'int' || t.kind === 'float' || t.kind === 'string') {
      p++;
      return { kind: t.kind, value: t.value };
    }
    if (t.kind === 'name') {
      p++;
      if (t.value === 'true' || t.value === 'false') return { kind: 'boolean', value: t.value === 'true' };
      if (t.value === 'null') return { kind: 'null' };
      return { kind: 'enum', value: t.value };
    }
    if (isPunct('[')) {
      p++;
      const values: GqlValue[] = [];
      while (!isPunct(']')) values.push(value(constant));
      p++;
      return { kind: 'list', values };
    }
    if (isPunct('{')) {
      p++;
      const fields = new Map<string, GqlValue>();
      while (!isPunct('}')) {
        const key = name();
        punct(':');
        fields.set(key, value(constant));
      }
      p++;
      return { kind: 'object', fields };
    }
    return fail(t, 'a value');
  };

  const args = (): Map<string, GqlValue> => {
    const out = new Map<string, GqlValue>();
    if (!isPunct('(')) return out;
    p++;
    do {
      const key = name();
      punct(':');
      out.set(key, value(false));
    } while (!isPunct(')'));
    p++;
    return out;
  };

  const directives = (): GqlDirective[] => {
    const out: GqlDirective[] = [];
    while (isPunct('@')) {
      p++;
      out.push({ name: name(), args: args() });
    }
    return out;
  };

  const selectionSet = (): GqlSelection[] => {
    punct('{');
    const out: GqlSelection[] = [];
    do {
      if (isPunct('...')) {
        p++;
        const t = peek();
        if (t.kind === 'name' && t.value !== 'on') {
          p++;
          out.push({ kind: 'spread', name: t.value, directives: directives() });
        } else {
          let typeCondition: string | undefined;
          if (t.kind === 'name') {
            p++;
            typeCondition = name();
          }
          out.push({ kind: 'inline', typeCondition, directives: directives(), selections: selectionSet() });
        }
        continue;
      }
      let alias: string | undefined;
      let field = name();
      if (isPunct(':')) {
        p++;
        alias = field;
        field = name();
      }
      const fieldArgs = args();
      const fieldDirectives = directives();
      out.push({
        kind: 'field',
        alias,
        name: field,
        args: fieldArgs,
        directives: fieldDirectives,
        selections: isPunct('{') ? selectionSet() : undefined,
      });
    } while (!isPunct('}'));
    p++;
    return out;
  };

  const typeRef = (): string => {
    let text: string;
    if (isPunct('[')) {
      p++;
      text = `[${typeRef()}]`;
      punct(']');
    } else {
      text = name();
    }
    if (isPunct('!')) {
      p++;
      text += '!';
    }
    return text;
  };

  const doc: GqlDocument = { operations: [], fragments: new Map() };
  while (peek().kind !== 'eof') {
    const t = peek();
    if (t.kind === 'punct' && t.value === '{') {
      doc.operations.push({ operation: 'query', name: undefined, variables: [], selections: selectionSet() });
      continue;
    }
    if (t.kind !== 'name') return fail(t, 'a definition');
    if (t.value === 'fragment') {
      p++;
      const fragmentName = name();
      if (peek().value !== 'on') fail(peek(), "'on'");
      p++;
      const typeCondition = name();
      directives();
      doc.fragments.set(fragmentName, { typeCondition, selections: selectionSet() });
      continue;
    }
    if (t.value !== 'query' && t.value !== 'mutation') {
      throw new GraphqlSyntaxError(
        `Syntax Error: Unexpected Name '${t.value}'; this server executes query and mutation operations and fragments only. (${position(source, t.at)})`,
      );
    }
    p++;
    const opName = peek().kind === 'name' ? name() : undefined;
    const variables: GqlVariableDefinition[] = [];
    if (isPunct('(')) {
      p++;
      do {
        punct('$');
        const varName = name();
        punct(':');
        const type = typeRef();
        let defaultValue: GqlValue | undefined;
        if (isPunct('=')) {
          p++;
          defaultValue = value(true);
        }
        directives();
        variables.push({ name: varName, type, defaultValue });
      } while (!isPunct(')'));
      p++;
    }
    directives();
    doc.operations.push({ operation: t.value, name: opName, variables, selections: selectionSet() });
  }
  return doc;
}
