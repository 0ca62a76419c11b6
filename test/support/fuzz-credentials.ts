// Credentials the fuzzer tries: mostly the right one (so cases get past authentication into the
// handler), and every wrong one a client could send — none, malformed, well-formed but unknown,
// revoked, the wrong kind (a /v1 key on /api, the admin key on /v1), another tenant's, padded,
// lower-cased scheme, Basic, 10 KB, non-ASCII. Cases carry a tag; the suite resolves it.
import fc from 'fast-check';
import { ADMIN_KEY } from './gateway.ts';
import { unknownKey, type Fixtures } from './fuzz-gateway.ts';

type Header = [string, string];
const weighted = (tags: Record<string, number>) => fc.oneof(...Object.entries(tags).map(([tag, weight]) => ({ weight, arbitrary: fc.constant(tag) })));

const HUGE = 'a'.repeat(10_000);

export const apiCredential = weighted({
  admin: 12, 'admin-bearer': 3, 'org-admin': 2, none: 1, wrong: 1, 'unknown-admin': 1, 'v1-key': 1, 'other-org': 1, padded: 1, 'lower-bearer': 1, basic: 1, huge: 1, latin1: 1, both: 1,
});

export function apiHeaders(tag: string, f: Fixtures): Header[] {
  switch (tag) {
    case 'admin': return [['x-admin-key', ADMIN_KEY]];
    case 'admin-bearer': return [['authorization', `Bearer ${ADMIN_KEY}`]];
    case 'org-admin': return [['x-admin-key', f.orgAdminKey]];
    case 'none': return [];
    case 'wrong': return [['x-admin-key', 'wrong-admin-key']];
    case 'unknown-admin': return [['x-admin-key', unknownKey('sk-tga-')]];
    case 'v1-key': return [['authorization', `Bearer ${f.keySecret}`]];
    case 'other-org': return [['x-admin-key', f.otherOrgAdminKey]];
    case 'padded': return [['x-admin-key', `   ${ADMIN_KEY}\t`]];
    case 'lower-bearer': return [['authorization', `bearer ${ADMIN_KEY}`]];
    case 'basic': return [['authorization', `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}`]];
    case 'huge': return [['x-admin-key', HUGE]];
    case 'latin1': return [['x-admin-key', 'ÿþ\u00e9']];
    case 'both': return [['x-admin-key', 'wrong-admin-key'], ['authorization', `Bearer ${ADMIN_KEY}`]];
    default: throw new Error(`unknown credential tag ${tag}`);
  }
}

/** Tags under which a /v1 request may be admitted (and so must release what it reserved). */
export const V1_VALID = new Set(['key', 'key-x-api-key', 'key-lower-bearer', 'key-padded', 'key-and-wrong-x-api-key']);

export const v1Credential = weighted({
  key: 14, 'key-x-api-key': 2, 'key-lower-bearer': 1, 'key-padded': 1, 'key-and-wrong-x-api-key': 1,
  none: 1, 'empty-bearer': 1, malformed: 1, unknown: 1, revoked: 1, admin: 1, 'org-admin': 1, basic: 1, huge: 1, latin1: 1,
});

export function v1Headers(tag: string, f: Fixtures): Header[] {
  switch (tag) {
    case 'key': return [['authorization', `Bearer ${f.keySecret}`]];
    case 'key-x-api-key': return [['x-api-key', f.keySecret]];
    case 'key-lower-bearer': return [['authorization', `bearer ${f.keySecret}`]];
    case 'key-padded': return [['authorization', `Bearer   ${f.keySecret}  `]];
    case 'key-and-wrong-x-api-key': return [['authorization', `Bearer ${f.keySecret}`], ['x-api-key', 'sk-tg-wrong']];
    case 'none': return [];
    case 'empty-bearer': return [['authorization', 'Bearer ']];
    case 'malformed': return [['authorization', 'Bearer sk-tg-abc']];
    case 'unknown': return [['authorization', `Bearer ${unknownKey()}`]];
    case 'revoked': return [['authorization', `Bearer ${f.revokedSecret}`]];
    case 'admin': return [['authorization', `Bearer ${ADMIN_KEY}`]];
    case 'org-admin': return [['authorization', `Bearer ${f.orgAdminKey}`]];
    case 'basic': return [['authorization', `Basic ${Buffer.from(`u:${f.keySecret}`).toString('base64')}`]];
    case 'huge': return [['authorization', `Bearer ${HUGE}`]];
    case 'latin1': return [['authorization', 'Bearer ÿþ\u00e9']];
    default: throw new Error(`unknown credential tag ${tag}`);
  }
}
