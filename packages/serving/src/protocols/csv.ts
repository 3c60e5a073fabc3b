/** `text/csv` bodies (MLflow's scoring server reads them with `pd.read_csv`): a header row, then values. */
import { TrestleError } from '@trestle/core';
import type { Batch } from '../predictor.js';
import type { InputSchema } from '../signature.js';

/** Splits CSV text into rows of fields (RFC 4180: quotes, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (!(row.length === 1 && row[0] === '')) rows.push(row);
      row = [];
    } else field += ch;
    i++;
  }
  if (quoted) throw new TrestleError('INVALID_ARGUMENT', 'the CSV body ends inside a quoted field; close the quote');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Reads a CSV body with a header row into a batch checked against the signature. */
export function decodeCsv(schema: InputSchema, text: string): Batch {
  const table = parseCsv(text);
  const header = table[0];
  if (header === undefined)
    throw new TrestleError('INVALID_ARGUMENT', 'the CSV body is empty; send a header row, then one row per prediction');
  const positions = header.map((name) => {
    const p = schema.position(name.trim());
    if (p === undefined) throw schema.unknownColumn(name);
    return p;
  });
  const present = new Set(positions);
  for (let c = 0; c < schema.names.length; c++)
    if (!present.has(c) && !schema.optional[c]) throw schema.absentColumn(c);
  const rows = table.length - 1;
  const cols = schema.kinds.map((k) => (k === 'string' ? new Array<string | null>(rows) : new Float64Array(rows)));
  for (let r = 0; r < rows; r++) {
    const fields = table[r + 1]!;
    if (fields.length !== positions.length) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `CSV row ${r} has ${fields.length} fields; the header has ${positions.length}`,
        { row: r },
      );
    }
    for (let j = 0; j < positions.length; j++) schema.putText(cols, positions[j]!, r, fields[j]!);
    for (let c = 0; c < schema.names.length; c++) if (!present.has(c)) schema.put(cols, c, r, null);
  }
  const columns: Batch['columns'] = {};
  schema.names.forEach((name, c) => (columns[name] = cols[c]!));
  return { rows, columns };
}
