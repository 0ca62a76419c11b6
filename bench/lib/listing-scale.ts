// Key listings at scale, for `npm run bench:scale`: every filter a UI offers, crossed with every
// sort, timed through listKeyPage (what GET /api/keys runs) on the loaded database. Each
// combination is timed on its first page and on a deep page (a cursor positioned in the middle of
// the order: the cost of any later page, since pages are keyset walks).
// The data's shape is the loader's in bench/scale.ts (its comment lists the proportions).
import type { Db } from '../../src/db/connection.ts';
import { listKeyPage, monthOf, SORT_KEYS, type KeyListing, type Sort } from '../../src/keys/key-listing.ts';
import type { Position } from '../../src/keys/key-cursor.ts';
import { summarize, type Summary } from './stats.ts';

export interface ListingShape {
  keys: number;
  /** the loader's clock: keys were created before it, used before it, expire after it */
  at: number;
  /** a team of ~100 keys, the large team (10% of the keys), a member, a service account */
  team: number;
  bigTeam: number;
  user: number;
  serviceAccount: number;
}

export interface ListingResult {
  filter: string;
  sort: string;
  first: Summary;
  deep: Summary;
  rows: number;
}

type Filter = Omit<KeyListing, 'orgId' | 'sort' | 'after' | 'offset' | 'limit' | 'month'>;
const LIVE = ['active', 'disabled'] as const;

function filters(s: ListingShape): Array<[string, Filter]> {
  const f = (x: Partial<Filter>): Filter => ({ statuses: LIVE, tags: [], ...x });
  return [
    ['none (live keys)', f({})],
    ['include_revoked', f({ statuses: ['active', 'disabled', 'revoked'] })],
    ['status=active', f({ statuses: ['active'] })],
    ['status=disabled (1%)', f({ statuses: ['disabled'] })],
    ['status=revoked (2%)', f({ statuses: ['revoked'] })],
    ['team (~100 keys)', f({ teamId: s.team })],
    ['large team (10%)', f({ teamId: s.bigTeam })],
    ['large team + status=disabled', f({ teamId: s.bigTeam, statuses: ['disabled'] })],
    ['large team + tag=prod', f({ teamId: s.bigTeam, tags: ['prod'] })],
    ['large team + q=key-12', f({ teamId: s.bigTeam, q: 'key-12' })],
    ['user_id (~10 keys)', f({ userId: s.user })],
    ['service_account_id (500 keys)', f({ serviceAccountId: s.serviceAccount })],
    ['tag=prod (33%)', f({ tags: ['prod'] })],
    ['tag=pci (0.01%)', f({ tags: ['pci'] })],
    ['q=sk-tg- (every key)', f({ q: 'sk-tg-' })],
    ['q=key-12 (1.1%)', f({ q: 'key-12' })],
    ['q=key-123456 (1 key)', f({ q: 'key-123456' })],
    ['q=ab1 (description, 0.7%)', f({ q: 'ab1' })],
    ['q=zz (2 letters, no match)', f({ q: 'zz' })],
  ];
}

/** A position in the middle of each order (any real position costs the same to continue from). */
function middle(sort: Sort, s: ListingShape, month: string): Position {
  const id = Math.floor(s.keys / 2);
  const day = 86_400_000;
  switch (sort.key) {
    case 'created_at': return { value: null, id };
    case 'last_used_at': return { value: new Date(s.at - 45 * day).toISOString(), id };
    case 'expires_at': return { value: new Date(s.at + 180 * day).toISOString(), id };
    case 'spend': return { value: [month, 500], id };
  }
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
    // A slow combination (a miss either way) is reported from 5 runs rather than holding up the
    // whole benchmark: its p99 is then the slowest of the 5.
    if (out[0]! > 200 && i >= 4) break;
  }
  return out;
}

/** Every filter × sort, in the loader's current month. */
export async function measureListings(db: Db, s: ListingShape, reps: number, say: (line: string) => void): Promise<ListingResult[]> {
  const out: ListingResult[] = [];
  const month = monthOf(s.at);
  const sorts: Sort[] = SORT_KEYS.flatMap((key) => [{ key, desc: false }, { key, desc: true }]);
  for (const [name, filter] of filters(s)) {
    for (const sort of sorts) {
      const l: KeyListing = { orgId: 1, ...filter, sort, offset: 0, limit: 50, month };
      const first = await listKeyPage(db, l); // warms the plan cache and tells the page size
      const r: ListingResult = {
        filter: name,
        sort: `${sort.desc ? '-' : ''}${sort.key}`,
        first: summarize(await timed(reps, () => listKeyPage(db, l))),
        deep: summarize(await timed(reps, () => listKeyPage(db, { ...l, after: middle(sort, s, month) }))),
        rows: first.keys.length,
      };
      out.push(r);
      const flag = Math.max(r.first.p99, r.deep.p99) >= 100 ? '  ** over 100 ms' : '';
      say(`  ${name.padEnd(32)} ${r.sort.padEnd(14)} first p50 ${r.first.p50.toFixed(2)} p99 ${r.first.p99.toFixed(2)} | deep p50 ${r.deep.p50.toFixed(2)} p99 ${r.deep.p99.toFixed(2)} ms (${r.rows} rows)${flag}`);
    }
  }
  return out;
}
