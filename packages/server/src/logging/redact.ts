/**
 * Query parameters whose values are secrets: never written to a log. A name matches when it is
 * one of these or ends in `_`/`-` plus one of them (`access_token`, `X-Amz-Signature`).
 */
const SECRET_NAMES = [
  'token',
  'secret',
  'password',
  'passwd',
  'pwd',
  'apikey',
  'api_key',
  'key_secret',
  'signature',
  'sig',
  'credential',
  'credentials',
  'auth',
  'authorization',
  'session',
  'sessionid',
  'code',
  'security-token',
];
const SECRET = new RegExp(`^(?:.*[_-])?(?:${SECRET_NAMES.join('|')})$`, 'i');

/** What a secret's value is replaced with. */
const REDACTED = '[REDACTED]';

/**
 * A URL as it may be logged: the values of secret query parameters (`token=`, `access_token=`,
 * `X-Amz-Signature=`, `password=`, …) replaced by `[REDACTED]`; the rest untouched.
 *
 * @example redactUrl('/api/v1/runs?token=abc&x=1') // '/api/v1/runs?token=[REDACTED]&x=1'
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq === -1 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: judge the name as written.
      }
      return eq !== -1 && SECRET.test(name) ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${redacted}${hash === -1 ? '' : url.slice(hash)}`;
}
