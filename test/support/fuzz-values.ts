// Hostile JSON values for the fuzz suites (test/fuzz/): wrong types, extreme numbers, unicode,
// lone surrogates, NUL, huge strings and deeply nested JSON. Bodies are value trees that may hold
// two special nodes, written out by `jsonText`:
//   RawJson — text put into the body verbatim (`-0`, `1e400`, 5,000 levels of `[`, duplicate keys),
//             because JSON.stringify can express none of these (and recursing 5,000 deep is a risk);
//   IdRef   — "the n-th existing team/key/…", resolved when the case runs against the live database.
import fc from 'fast-check';

export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type IdKind = 'team' | 'key' | 'user' | 'provider' | 'org' | 'service_account';

export class IdRef {
  readonly kind: IdKind;
  readonly index: number;
  constructor(kind: IdKind, index: number) {
    this.kind = kind;
    this.index = index;
  }
}

/** JSON text of a value tree; `id` resolves IdRef nodes. Recursive: trees are shallow, depth lives in RawJson. */
export function jsonText(v: unknown, id: (ref: IdRef) => number): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof IdRef) return String(id(v));
  if (Array.isArray(v)) return `[${v.map((x) => jsonText(x, id)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x, id)}`).join(',')}}`;
  }
  return v === undefined ? 'null' : JSON.stringify(v);
}

// ---- nesting ----

const deepCache = new Map<string, RawJson>();
/** `[[[…]]]`, `{"a":{"a":…}}` or arrays of objects holding null, `depth` levels, built as text. */
export function deep(shape: 'array' | 'object' | 'mixed', depth: number): RawJson {
  const key = `${shape}:${depth}`;
  let raw = deepCache.get(key);
  if (!raw) {
    const text =
      shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth)
      : shape === 'object' ? '{"a":'.repeat(depth) + 'null' + '}'.repeat(depth)
      : '[{"content":'.repeat(depth) + '[null]' + '}]'.repeat(depth);
    deepCache.set(key, (raw = new RawJson(text)));
  }
  return raw;
}

export const deepJson: fc.Arbitrary<RawJson> = fc
  .tuple(fc.constantFrom('array' as const, 'object' as const, 'mixed' as const), fc.constantFrom(63, 64, 65, 1_000, 5_000, 20_000))
  .map(([shape, depth]) => deep(shape, depth));

// ---- strings ----

const MiB = 1024 * 1024;
/** Built once: generating megabytes per case would cost more than sending them. */
const HUGE = {
  k64: 'a'.repeat(64 * 1024),
  m1: 'x'.repeat(MiB),
  unicode: '€😀'.repeat(50_000),
  nul: '\u0000'.repeat(100_000),
};

const NASTY_STRINGS = [
  '', ' ', '\t', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'a\ud83d', '\udc00\ud800', '\u202eevil', '\ufeff', 'zero\u200bwidth',
  '\r\n', 'line\nbreak', 'x\r\nX-Injected: 1', '😀'.repeat(10), 'ÅÄÖ', '𝕏𝕐', 'ﷺ', 'İı', '\u0301', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗͕͑',
  "' OR 1=1 --", '"; DROP TABLE teams; --', '<script>alert(1)</script>', '../../etc/passwd', '%s%s%n', '${process.env}', '{{7*7}}',
  '__proto__', 'constructor', 'prototype', 'null', 'undefined', 'NaN', 'Infinity', '-Infinity', '-0', '0x10', '1e3', '1e308', '1e999', '9'.repeat(400),
  'true', '[]', '{}', '0', '-1', '1.5', ' 1', '１', 'sk-tg-', 'Bearer ', '%00', '%ff%fe', '\\', '\\u0000', '"', "'", '`',
  '2026-01-01T00:00:00Z', '9999-12-31T23:59:59-00:01', '+275760-09-13T00:00:00Z', '0000-00-00T00:00:00Z', 'http://169.254.169.254/latest', 'admin', 'owner', 'member',
];

export const loneSurrogateString: fc.Arbitrary<string> = fc
  .tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 5 }))
  .map(([a, s, b]) => a + String.fromCharCode(s) + b);

// Weights out of 100; megabyte strings are rare because each costs milliseconds to send and parse.
/** Strings a database may refuse to store (PostgreSQL text cannot hold NUL) or a parser may mangle. */
export const storageHostileString: fc.Arbitrary<string> = fc.constantFrom('\u0000', 'a\u0000b', 'nul at end\u0000', '\ud800', 'lone \udfff surrogate', '\uffff', '\u0001\u001f\u007f');

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 45, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 5, arbitrary: storageHostileString },
  { weight: 16, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 15, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 7, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  { weight: 6, arbitrary: loneSurrogateString },
  { weight: 1, arbitrary: fc.constantFrom(...Object.values(HUGE)) },
  { weight: 5, arbitrary: fc.integer({ min: 190, max: 4200 }).map((n) => 'n'.repeat(n)) }, // around field length limits
);

// ---- numbers ----

export const hostileNumber: fc.Arbitrary<number | RawJson> = fc.oneof(
  // Integer-column edges (PostgreSQL int4 and int8, JavaScript's safe integers) and the schemas' own limits.
  fc.constantFrom(0, -1, 1, 1.5, -1.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e12, 1e12 + 1, 1e9 + 1, 1e15, 1e308, -1e308, 5e-324, 0.1 + 0.2),
  fc.constantFrom('-0', '1e400', '-1e400', '9007199254740993', '123456789012345678901234567890', '1.0', '1E2', '0.1e-400', '1e-7', '0.0000001').map((t) => new RawJson(t)),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

// ---- any value ----

const WIDE = {
  array: new RawJson(`[${Array.from({ length: 10_000 }, (_, i) => i).join(',')}]`),
  nulls: new RawJson(`[${Array(10_000).fill('null').join(',')}]`),
  object: new RawJson(`{${Array.from({ length: 5_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`),
};

const PROTO = [
  '{"__proto__":{"polluted":true,"role":"admin"}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":1,"a":"dup"}',
].map((t) => new RawJson(t));

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], [[]], [{}], ['x', null], { '': null }) },
  { weight: 4, arbitrary: hostileNumber },
  { weight: 5, arbitrary: hostileString },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(...Object.values(WIDE), ...PROTO) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 4 }) },
);

/** A key that no schema expects. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'org_id', 'created_at', 'key_hash', 'secret', '', ' ', 'name ', 'NAME', '\u0000', '$where', 'a.b', 'a[0]'),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);

// ---- mutation of a valid-ish object ----

type Op = { op: 'set'; field: string; value: unknown } | { op: 'delete'; field: string } | { op: 'extra'; key: string; value: unknown } | { op: 'null-item'; field: string };

/**
 * A body that starts valid for its route and gets up to three mutations: a field set to a hostile
 * value, a field removed, an unknown field added, null pushed into an array field.
 */
export function mutated(valid: fc.Arbitrary<Record<string, unknown>>, fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const field = fields.length ? fc.constantFrom(...fields) : hostileKey;
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), field, value: hostileValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), field }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('extra' as const), key: hostileKey, value: hostileValue }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('null-item' as const), field }) },
  );
  return fc.tuple(valid, fc.array(op, { maxLength: 3 })).map(([base, ops]) => {
    const out: Record<string, unknown> = { ...base };
    // defineProperty: a plain assignment of "__proto__" would set the prototype, not a key.
    const put = (k: string, value: unknown) => Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    for (const o of ops) {
      if (o.op === 'set') put(o.field, o.value);
      else if (o.op === 'delete') delete out[o.field];
      else if (o.op === 'extra') put(o.key, o.value);
      else put(o.field, Array.isArray(out[o.field]) ? [...(out[o.field] as unknown[]), null] : [null]);
    }
    return out;
  });
}

/** Every IdRef in a value tree (they are resolved, asynchronously, before the tree is written out). */
export function refsIn(v: unknown, out: IdRef[] = []): IdRef[] {
  if (v instanceof IdRef) out.push(v);
  else if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (v !== null && typeof v === 'object' && !(v instanceof RawJson)) for (const x of Object.values(v)) refsIn(x, out);
  return out;
}
