import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseSse, type SseMessage } from './sse.js';

async function parse(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  const bytes = Readable.from(chunks.map((c) => new TextEncoder().encode(c)));
  for await (const m of parseSse(bytes)) out.push(m);
  return out;
}

describe('parseSse', () => {
  it('splits messages on blank lines, across chunk boundaries and line-ending styles', async () => {
    const messages = await parse([
      'retry: 1000\n: trestle events after 4\n\nid: 5\nev',
      'ent: alias.set\ndata: {"id":5}\r',
      '\n\r\nid: 6\rdata: a\rdata: b\r\r: ping\n\n',
    ]);
    expect(messages).toEqual([
      { event: 'message', data: '', retry: 1000 },
      { id: '5', event: 'alias.set', data: '{"id":5}' },
      { id: '6', event: 'message', data: 'a\nb' },
    ]);
  });

  it('drops a message cut off before its blank line and ignores unknown fields', async () => {
    expect(await parse(['foo: bar\ndata: x\n\nid: 7\ndata: half'])).toEqual([{ event: 'message', data: 'x' }]);
  });
});
