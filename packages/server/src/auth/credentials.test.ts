import { describe, expect, it } from 'vitest';
import { parseAuthorization, type Credentials } from './credentials.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const token = 'trestle_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';

describe('parseAuthorization', () => {
  it.each<[string, string | undefined, Credentials]>([
    ['no header', undefined, { kind: 'none' }],
    ['an empty header', '', { kind: 'none' }],
    ['a blank header', '   ', { kind: 'none' }],
    ['Bearer', `Bearer ${token}`, { kind: 'token', scheme: 'bearer', token }],
    ['Bearer, any case and extra spaces', `  bEaReR   ${token}  `, { kind: 'token', scheme: 'bearer', token }],
    ['Basic user:token', `Basic ${b64(`alice:${token}`)}`, { kind: 'token', scheme: 'basic', token }],
    ['Basic with an empty user', `Basic ${b64(`:${token}`)}`, { kind: 'token', scheme: 'basic', token }],
    ['Basic with a colon in the password', `basic ${b64('bob:a:b')}`, { kind: 'token', scheme: 'basic', token: 'a:b' }],
    ['Basic with a non-ASCII user', `Basic ${b64(`zoë:${token}`)}`, { kind: 'token', scheme: 'basic', token }],
  ])('%s', (_case, header, expected) => {
    expect(parseAuthorization(header)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['a scheme alone', 'Bearer', /not followed by credentials/],
    ['a scheme and spaces', 'Basic    ', /not followed by credentials/],
    ['a token with a space in it', `Bearer ${token} extra`, /spaces/],
    ['another scheme', `Token ${token}`, /unsupported scheme 'Token'/],
    ['Digest', 'Digest username="a", realm="b"', /unsupported scheme 'Digest'/],
    ['a bare token', `${token}`, /no scheme; send 'Bearer <token>'/],
    ['a bare token and a word', `${token} x`, /no scheme/],
    ['a bare token starting with a symbol', ':abc', /not of the form/],
    ['malformed base64', 'Basic !!!notbase64', /characters a token never has|not valid base64/],
    ['base64 of the wrong length', 'Basic abcde', /not valid base64/],
    ['Basic without a colon', `Basic ${b64(token)}`, /not 'user:password'/],
    ['Basic with an empty password', `Basic ${b64('alice:')}`, /password is empty/],
  ])('refuses %s as malformed', (_case, header, reason) => {
    const parsed = parseAuthorization(header);
    expect(parsed.kind).toBe('malformed');
    const said = parsed.kind === 'malformed' ? parsed.reason : '';
    expect(said).toMatch(reason);
    // A reason may end up in logs: it never repeats the secret.
    expect(said).not.toContain(token);
  });
});
