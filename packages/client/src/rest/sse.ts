/** One server-sent event (the WHATWG `text/event-stream` fields). */
export interface SseMessage {
  /** The `id:` field, when the message had one. */
  id?: string;
  /** The `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  /** The `retry:` field in ms, when the message had one. */
  retry?: number;
}

/**
 * Parses a `text/event-stream` body into messages as they arrive: lines end with LF, CR or
 * CRLF; a blank line ends a message; comment lines (`: ping`) are skipped; a message with no
 * data is not dispatched (but its `retry:` is).
 *
 * @example for await (const m of parseSse(response.body)) console.log(m.id, m.event, JSON.parse(m.data));
 */
export async function* parseSse(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let retry: number | undefined;
  const dispatch = (): SseMessage | undefined => {
    const message =
      data.length === 0 && retry === undefined
        ? undefined
        : {
            event: event === '' ? 'message' : event,
            data: data.join('\n'),
            ...(id === undefined ? {} : { id }),
            ...(retry === undefined ? {} : { retry }),
          };
    id = undefined;
    event = '';
    data = [];
    retry = undefined;
    return message;
  };
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (buffer[end] === '\r' && end === buffer.length - 1) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      if (line === '') {
        const message = dispatch();
        if (message !== undefined) yield message;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
  }
}
