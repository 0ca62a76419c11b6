// The request-level half of the fuzz suites: one case = route, path ids, query string, credential,
// content type, body, extra headers, and optionally a raw-socket tweak (header injection, request
// line abuse) that no well-behaved client library would send. Cases are data; the runner
// (fuzz-run.ts) resolves ids and secrets and sends them.
import fc from 'fast-check';
import { deep, hostileString, hostileValue, IdRef, mutated, type IdKind } from './fuzz-values.ts';

export interface Route { method: string; url: string }

export type BodySpec = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; bytes: Buffer | string };

export interface FuzzCase {
  route: Route;
  /** the method sent: the route's own, or now and then another one */
  method: string;
  /** one per `:param` of the route's url */
  params: Array<IdRef | string>;
  /** '' or '?…', already encoded as it goes on the wire */
  query: string;
  /** a credential tag (fuzz-credentials.ts), turned into headers by the suite */
  cred: string;
  /** 'auto': application/json when there is a body */
  contentType: string | null | 'auto';
  body: BodySpec;
  headers: Array<[string, string]>;
  /** set: sent over a raw socket with this tweak (see RAW_TWEAKS) */
  raw: RawTweak | null;
}

// ---- families ----

/** Sub-resources that are a family of their own wherever they hang (/teams/:id/keys is "keys"). */
const SUB_FAMILIES = ['limits', 'members', 'service-accounts', 'keys'];

/** Groups routes by family: the last sub-resource segment, else the first segment after the prefix. */
export function families(routes: Route[], prefix: string): Map<string, Route[]> {
  const out = new Map<string, Route[]>();
  for (const r of routes) {
    const statics = r.url.slice(prefix.length).split('/').filter((s) => s && !s.startsWith(':'));
    const family = [...statics].reverse().find((s) => SUB_FAMILIES.includes(s)) ?? statics[0] ?? '/';
    out.set(family, [...(out.get(family) ?? []), r]);
  }
  return out;
}

const BY_PREVIOUS: Record<string, IdKind> = { teams: 'team', keys: 'key', users: 'user', providers: 'provider', orgs: 'org', 'service-accounts': 'service_account' };
const BY_NAME: Record<string, IdKind> = { keyId: 'key', userId: 'user', saId: 'service_account' };

/** The kind of object each `:param` of a url names (undefined: unknown, gets any id). */
export function paramKinds(url: string): Array<IdKind | undefined> {
  const segments = url.split('/');
  const kinds: Array<IdKind | undefined> = [];
  segments.forEach((s, i) => {
    if (s.startsWith(':')) kinds.push(BY_NAME[s.slice(1)] ?? BY_PREVIOUS[segments[i - 1] ?? '']);
  });
  return kinds;
}

// ---- path ids ----

const HOSTILE_IDS = [
  '0', '-1', '1.5', '1e3', '0x10', '00001', '+1', '%201', '1%20', '9999999999999999', '99999999999999999999999', 'NaN', 'Infinity', 'null', 'undefined',
  'true', '[]', '%ff%fe', '%00', '1%00', '..%2f..%2fetc%2fpasswd', '..', '.', '%2e%2e', '%', '%zz', '%E2%82%AC', '%C0%AF', '%ED%A0%80', '€', 'ü',
  '2147483647', '2147483648', '4294967296', '9007199254740991', '9007199254740992', 'x'.repeat(101), 'x'.repeat(10_000), '1;DROP', "1'", '1%27%20OR%201=1', '__proto__', 'constructor', '%0d%0aX-Injected:%201', '%3F', '%23', '1%2F2', '*', '',
];

export function pathId(kind: IdKind | undefined): fc.Arbitrary<IdRef | string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.nat(40).map((i) => new IdRef(kind ?? 'team', i)) },
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_IDS) },
    { weight: 1, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: hostileString.filter((s) => s.length < 200).map(pct) },
  );
}

/** Percent-encodes everything but unreserved characters, byte by byte (lone surrogates become U+FFFD, as on any wire). */
export function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ---- query strings ----

const QUERY_KEYS = ['limit', 'offset', 'after', 'team_id', 'user_id', 'include_revoked'];
const queryKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...QUERY_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...QUERY_KEYS.map((k) => k + '[]'), 'limit[0]', 'limit[a]', '__proto__', 'constructor', 'hasOwnProperty', '', 'a'.repeat(1000)) },
  { weight: 1, arbitrary: hostileString.filter((s) => s.length < 200) },
);
const queryValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('1', '0', '-1', '50', '1000', '1001', '1.5', '1e3', '0x10', 'true', 'false', '', 'NaN', '9'.repeat(30), ' 1', '2147483648', '9007199254740993') },
  { weight: 2, arbitrary: hostileString.filter((s) => s.length < 5000) },
);
/** Encodings a hand-written client might send: malformed escapes, raw `+`, a stray `%`. */
const RAW_QUERY_VALUES = ['%zz', '%', '%0', '%00', '%ff%fe', '%u0041', '+', '++1', '1+1', '%2B1', '%C0%80', '%ED%A0%80', '%E2%80%AE'];

export const queryString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('') },
  { weight: 8, arbitrary: fc.array(fc.tuple(queryKey, queryValue), { minLength: 1, maxLength: 5 }).map((ps) => '?' + ps.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.constantFrom(...RAW_QUERY_VALUES)).map(([k, v]) => `?${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('?', '?&&&', '?=', '?limit', '?limit=1&limit=2', '?limit=1&limit=1&limit=1', '?' + 'limit=1&'.repeat(2_000), '?a=' + 'b'.repeat(100_000), '?%E2%82%AC=%F0%9F%98%80', '?limit=1#frag') },
);

// ---- content types and bodies ----

export const contentType: fc.Arbitrary<FuzzCase['contentType']> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('auto' as const) },
  { weight: 2, arbitrary: fc.constant(null) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=utf-16', 'application/json;charset=latin1',
      'text/plain', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream',
      'application/vnd.api+json', 'application/jsonx', 'json', '', ' ', ' application/json', 'application/json, text/plain', '*/*', 'application/', ';', 'application/json; boundary=',
    ),
  },
);

const MiB = 1024 * 1024;
let oversized: Record<string, Buffer> | undefined;
/** Bodies just over the /v1 (16 MiB) and /api (32 MiB) limits, built the first time one is drawn. */
function oversizedBody(which: '17' | '33'): Buffer {
  oversized ??= {};
  return (oversized[which] ??= Buffer.from(`{"name":"${'x'.repeat(Number(which) * MiB)}"}`));
}

const WHOLE_BODIES: Array<string | Buffer> = [
  '', ' ', 'null', '"str"', '123', '-0', 'true', '[]', '[null]', 'not json', '{', '}', '{"a":1,}', '{"a":1}{"b":2}', "{'a':1}", '{"a":undefined}', '{"a":NaN}',
  '\ufeff{}', '\u0000', '{"\u0000":1}', ' '.repeat(100_000) + '{}', '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":"\\x41"}',
  Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0x22, 0x7d]), // invalid UTF-8 inside a string
  Buffer.from('{"name":"utf16"}', 'utf16le'),
  deep('array', 5_000).text, deep('object', 5_000).text, deep('mixed', 5_000).text, deep('array', 100_000).text,
];

export const wholeBody: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 400, arbitrary: fc.constantFrom(...WHOLE_BODIES).map((bytes) => ({ kind: 'raw' as const, bytes })) },
  { weight: 1, arbitrary: fc.constantFrom('17' as const, '33' as const).map((w) => ({ kind: 'raw' as const, bytes: oversizedBody(w) })) },
);

/** Mostly the route's valid-ish body mutated; sometimes valid as is, not an object, raw text or nothing. */
export function bodySpec(valid: fc.Arbitrary<Record<string, unknown>>, fields: string[], hasBody: boolean): fc.Arbitrary<BodySpec> {
  const json = (a: fc.Arbitrary<unknown>) => a.map((value): BodySpec => ({ kind: 'json', value }));
  return fc.oneof(
    { weight: hasBody ? 12 : 1, arbitrary: json(mutated(valid, fields)) },
    { weight: hasBody ? 3 : 0, arbitrary: json(valid) },
    { weight: 1, arbitrary: json(hostileValue) },
    { weight: 2, arbitrary: wholeBody },
    { weight: hasBody ? 1 : 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  );
}

// ---- extra headers (valid on the wire) ----

export const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Array<[string, string]>>([]) },
  {
    weight: 2,
    arbitrary: fc.subarray<[string, string]>([
      ['x-forwarded-for', '1.2.3.4, 169.254.169.254'], ['x-real-ip', '::1'], ['x-request-id', '../../x'], ['accept', 'text/html'], ['accept-encoding', 'gzip, br, zstd'],
      ['content-encoding', 'gzip'], ['accept-charset', 'utf-16'], ['origin', 'http://evil.example'], ['cookie', 'session=x'], ['x-http-method-override', 'DELETE'],
      ['x-admin-key', ''], ['x-api-key', ' '], ['range', 'bytes=0-1'], ['if-none-match', '*'], ['te', 'trailers'], ['via', '1.1 evil'],
    ], { minLength: 1 }),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x-fuzz', 'x-request-id', 'user-agent', 'referer'), fc.string({ unit: 'grapheme-ascii', maxLength: 200 })).map((h): Array<[string, string]> => [h]) },
);

// ---- raw-socket tweaks: what only a hand-written client sends ----

export type RawTweak = keyof typeof RAW_TWEAKS;
/** Each tweak edits the request head (lines without the final CRLF). `body` is the body's byte length. */
export const RAW_TWEAKS = {
  'crlf-in-value': (h: RawHead) => h.lines.push('X-Fuzz: a\r\nX-Injected: 1'),
  'lf-in-value': (h: RawHead) => h.lines.push('X-Fuzz: a\nX-Injected: 1'),
  'cr-in-value': (h: RawHead) => h.lines.push('X-Fuzz: a\rX-Injected: 1'),
  'nul-in-value': (h: RawHead) => h.lines.push('X-Fuzz: a\u0000b'),
  'obs-fold': (h: RawHead) => h.lines.push('X-Fuzz: a', ' folded: X-Injected: 1'),
  'space-before-colon': (h: RawHead) => h.lines.push('X-Fuzz : a'),
  'bad-header-name': (h: RawHead) => h.lines.push('X(Fuzz)@: a'),
  'latin1-value': (h: RawHead) => h.lines.push('X-Fuzz: \u00ff\u00fe\u00e9'),
  'utf8-value': (h: RawHead) => h.lines.push(Buffer.from('X-Fuzz: €😀', 'utf8').toString('latin1')),
  'huge-header': (h: RawHead) => h.lines.push('X-Fuzz: ' + 'a'.repeat(20_000)),
  'many-headers': (h: RawHead) => h.lines.push(...Array.from({ length: 300 }, (_, i) => `X-F${i}: v`)),
  'huge-url': (h: RawHead) => void (h.target += (h.target.includes('?') ? '&' : '?') + 'q=' + 'a'.repeat(70_000)),
  // Framing conflicts (request smuggling): both lines are always there, so no request is left
  // waiting for bytes that never come.
  'dup-content-length': (h: RawHead) => h.lines.push(`Content-Length: ${h.bodyLength}`, `Content-Length: ${h.bodyLength + 1}`),
  'te-and-cl': (h: RawHead) => h.lines.push(`Content-Length: ${h.bodyLength}`, 'Transfer-Encoding: chunked'),
  'dup-host': (h: RawHead) => h.lines.push('Host: evil.example'),
  'no-host': (h: RawHead) => void (h.lines = h.lines.filter((l) => !l.startsWith('Host:'))),
  'http10': (h: RawHead) => void (h.version = 'HTTP/1.0'),
  'http2-version': (h: RawHead) => void (h.version = 'HTTP/2.0'),
  'absolute-uri': (h: RawHead) => void (h.target = `http://127.0.0.1${h.target}`),
  'lowercase-method': (h: RawHead) => void (h.method = h.method.toLowerCase()),
  'unknown-method': (h: RawHead) => void (h.method = 'FUZZ'),
  'raw-space-in-url': (h: RawHead) => void (h.target = h.target.replace(/\/([^/]*)$/, '/a b$1')),
  'raw-utf8-in-url': (h: RawHead) => void (h.target += Buffer.from('/€', 'utf8').toString('latin1')),
  'upgrade': (h: RawHead) => h.lines.push('Connection: Upgrade', 'Upgrade: websocket'),
  'expect-continue': (h: RawHead) => h.lines.push('Expect: 100-continue'),
  'expect-bogus': (h: RawHead) => h.lines.push('Expect: 42-fuzz'),
  'auth-injection': (h: RawHead) => h.lines.push('Authorization: Bearer x\r\nX-Injected: 1'),
} satisfies Record<string, (h: RawHead) => unknown>;

export interface RawHead { method: string; target: string; version: string; lines: string[]; bodyLength: number }

/** One case in 20 goes over a raw socket (a connection each): every tweak still comes up hundreds of times per family. */
export const rawTweak: fc.Arbitrary<RawTweak | null> = fc.oneof(
  { weight: 19, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(...(Object.keys(RAW_TWEAKS) as RawTweak[])) },
);

// ---- a whole case ----

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

export interface CaseOptions {
  cred: fc.Arbitrary<string>;
  /** the route's valid-ish body and its field names */
  body(route: Route): { valid: fc.Arbitrary<Record<string, unknown>>; fields: string[] };
}

export function fuzzCase(routes: Route[], opts: CaseOptions): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...routes).chain((route) => {
    const { valid, fields } = opts.body(route);
    const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
    return fc.record({
      route: fc.constant(route),
      method: fc.oneof({ weight: 19, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
      params: fc.tuple(...paramKinds(route.url).map(pathId)),
      query: queryString,
      cred: opts.cred,
      contentType,
      body: bodySpec(valid, fields, hasBody),
      headers: extraHeaders,
      raw: rawTweak,
    });
  });
}
