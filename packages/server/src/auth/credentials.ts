/**
 * Reading an API token from the `Authorization` header, in the two forms clients send:
 * `Bearer <token>` (the Trestle SDK with TRESTLE_TRACKING_TOKEN, MLflow clients with
 * MLFLOW_TRACKING_TOKEN) and HTTP Basic with the token as the password (MLflow clients with
 * MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD; the user name is ignored).
 */

/** What an `Authorization` header holds. */
export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly scheme: 'bearer' | 'basic'; readonly token: string }
  | { readonly kind: 'malformed'; readonly reason: string };

// RFC 7235: a scheme, then one token68 (base64 and friends, optional `=` padding).
const HEADER = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:[ \t]+(.*))?$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * Parses an `Authorization` header. The scheme is case-insensitive. Anything that is neither
 * a Bearer token nor Basic `user:token` is `malformed`, with the reason in words.
 *
 * @example
 * parseAuthorization('Bearer trestle_abc')                      // { kind: 'token', scheme: 'bearer', token: 'trestle_abc' }
 * parseAuthorization(`Basic ${btoa('alice:trestle_abc')}`)     // { kind: 'token', scheme: 'basic', token: 'trestle_abc' }
 * parseAuthorization(undefined)                                 // { kind: 'none' }
 * parseAuthorization('Token abc')                               // { kind: 'malformed', reason: "unsupported scheme 'Token'; …" }
 */
export function parseAuthorization(header: string | undefined): Credentials {
  const value = header?.trim() ?? '';
  if (value === '') return { kind: 'none' };
  const match = HEADER.exec(value);
  if (match === null) return { kind: 'malformed', reason: 'it is not of the form "<scheme> <credentials>"' };
  const scheme = match[1]!.toLowerCase();
  const rest = (match[2] ?? '').trim();
  if (scheme !== 'bearer' && scheme !== 'basic') {
    // Never echo what may be a secret sent without a scheme: it would end up in logs.
    if (match[2] === undefined || match[1]!.length > 16) {
      return {
        kind: 'malformed',
        reason: "it has no scheme; send 'Bearer <token>', or Basic with the token as password",
      };
    }
    return {
      kind: 'malformed',
      reason: `unsupported scheme '${match[1]!}'; use Bearer, or Basic with the token as password`,
    };
  }
  if (rest === '') return { kind: 'malformed', reason: `'${match[1]!}' is not followed by credentials` };
  if (!TOKEN68.test(rest))
    return { kind: 'malformed', reason: `the ${match[1]!} credentials contain spaces or characters a token never has` };
  if (scheme === 'bearer') return { kind: 'token', scheme, token: rest };

  if (!BASE64.test(rest)) return { kind: 'malformed', reason: 'the Basic credentials are not valid base64' };
  const decoded = Buffer.from(rest, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed', reason: "the Basic credentials are not 'user:password'" };
  const password = decoded.slice(colon + 1);
  if (password === '')
    return { kind: 'malformed', reason: 'the Basic password is empty; send the API token as the password' };
  return { kind: 'token', scheme, token: password };
}
