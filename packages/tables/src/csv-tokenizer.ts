/**
 * A streaming RFC 4180 tokenizer: text chunks in, records (arrays of fields) out, each with
 * the line it starts on. Quoted fields may hold delimiters, doubled quotes and newlines;
 * CR LF and LF both end a record; blank lines are skipped.
 */
import { TrestleError } from '@trestle/core';

/** One record and the 1-based line of the file it starts on. */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

const START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const AFTER_QUOTE = 3;

/**
 * Push text in any chunking; records come out as soon as they are complete.
 *
 * @example
 * const t = new CsvTokenizer(',');
 * const out: CsvRecord[] = [];
 * t.push('a,"b\nc"\n1,2', out); t.end(out);
 * // out: [{ fields: ['a', 'b\nc'], line: 1 }, { fields: ['1', '2'], line: 3 }]
 */
export class CsvTokenizer {
  readonly #delimiter: number;
  readonly #source: string;
  #state = START;
  #field = '';
  #record: string[] = [];
  #line = 1;
  #recordLine = 1;
  #quoteLine = 1;

  constructor(delimiter = ',', source = 'CSV') {
    if (delimiter.length !== 1) throw new TrestleError('INVALID_ARGUMENT', 'a CSV delimiter is one character');
    this.#delimiter = delimiter.charCodeAt(0);
    this.#source = source;
  }

  /** Tokenizes `text`, appending complete records to `out`. */
  push(text: string, out: CsvRecord[]): void {
    const n = text.length;
    const delim = this.#delimiter;
    let start = 0;
    for (let i = 0; i < n; i++) {
      let c = text.charCodeAt(i);
      switch (this.#state) {
        case START:
          if (this.#record.length === 0) this.#recordLine = this.#line;
          if (c === QUOTE) {
            this.#state = QUOTED;
            this.#quoteLine = this.#line;
            start = i + 1;
          } else if (c === delim) {
            this.#record.push('');
          } else if (c === LF) {
            this.#line++;
            if (this.#record.length > 0) this.#record.push(''); // 'a,' ends with an empty field
            this.#endRecord(out);
          } else if (c !== CR) {
            this.#state = UNQUOTED;
            start = i;
            i--; // rescan this character in UNQUOTED
          }
          break;
        case UNQUOTED:
          while (i < n) {
            c = text.charCodeAt(i);
            if (c === delim || c === LF || c === CR) break;
            i++;
          }
          if (i === n) {
            this.#field += text.slice(start, n);
            return;
          }
          this.#field += text.slice(start, i);
          start = i + 1;
          if (c === delim) {
            this.#record.push(this.#field);
            this.#field = '';
            this.#state = START;
          } else if (c === LF) {
            this.#line++;
            this.#record.push(this.#field);
            this.#field = '';
            this.#state = START;
            this.#endRecord(out);
          }
          // CR: dropped, the field goes on (CR LF ends it at the LF).
          break;
        case QUOTED:
          while (i < n) {
            c = text.charCodeAt(i);
            if (c === QUOTE) break;
            if (c === LF) this.#line++;
            i++;
          }
          if (i === n) {
            this.#field += text.slice(start, n);
            return;
          }
          this.#field += text.slice(start, i);
          this.#state = AFTER_QUOTE;
          break;
        case AFTER_QUOTE:
          if (c === QUOTE) {
            this.#field += '"';
            this.#state = QUOTED;
            start = i + 1;
          } else if (c === delim) {
            this.#record.push(this.#field);
            this.#field = '';
            this.#state = START;
          } else if (c === LF) {
            this.#line++;
            this.#record.push(this.#field);
            this.#field = '';
            this.#state = START;
            this.#endRecord(out);
          } else if (c !== CR) {
            throw new TrestleError(
              'INVALID_ARGUMENT',
              `${this.#source} line ${this.#line}: unexpected ${JSON.stringify(text[i])} after a closing quote; quote the whole field and double the quotes inside it ("")`,
              { line: this.#line },
            );
          }
          break;
      }
    }
    if (this.#state === QUOTED) this.#field += text.slice(start, n);
  }

  /** Flushes the last record (a file need not end with a newline). */
  end(out: CsvRecord[]): void {
    if (this.#state === QUOTED) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${this.#source} line ${this.#quoteLine}: a quoted field is never closed (missing '"')`,
        { line: this.#quoteLine },
      );
    }
    if (this.#state !== START || this.#record.length > 0) {
      this.#record.push(this.#field);
      this.#field = '';
      this.#state = START;
      this.#endRecord(out);
    }
  }

  #endRecord(out: CsvRecord[]): void {
    const record = this.#record;
    this.#record = [];
    if (record.length === 1 && record[0] === '') return; // a blank line
    if (record.length === 0) return;
    out.push({ fields: record, line: this.#recordLine });
  }
}
