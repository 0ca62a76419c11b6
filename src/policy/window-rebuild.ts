// Rate windows kept in process memory (embedded mode) lose their counts when the process stops.
// So that a restart — graceful or kill -9 — does not hand every key a fresh hour and day, a window
// whose span reaches back before this process started is loaded, on its first use, with what the
// earlier processes admitted in it: their forwarded requests and tokens in usage_minutes (written
// with the log rows; a crashed run's rows come back from the journal before this runs). What this
// process admits is counted by the window itself, from the moment the window exists, as before.
// See docs/limits.md, "Rate windows across restarts".
//
// "Earlier processes" is cut at the start: minutes before the start minute are read when a window
// is loaded, and the start minute itself was read once at start (before this process logged
// anything in it). Windows whose buckets are whole minutes (rph: 60 s, rpd and tpd: 24 min) come
// back exactly. A minute window's 1 s buckets cannot be told apart within a minute: a minute's
// usage is put in its last second (never after the start), so it expires at the latest moment any
// of it could — a rebuilt minute window may refuse for up to a minute what the lost one would have
// admitted, never the reverse.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { bucketOf, type WindowSpec } from './counter-store.ts';
import { WINDOWS, type WindowName } from './policy.ts';
import { splitScope } from './policies.repository.ts';

export interface WindowRebuild {
  /** when this process started admitting: windows reaching back before it are loaded */
  since: number;
  /** what earlier processes admitted in a window, as (bucket, amount) pairs */
  load(spec: Omit<WindowSpec, 'limit'>, now: number): Promise<Array<readonly [number, number]>>;
}

type Usage = { requests: number; tokens: number };

/**
 * Reads the start minute's usage (every scope that earlier processes used in it: a few rows) and
 * returns the loader. Call after the journal replay, before the first request.
 */
export async function windowRebuild(db: Kysely<Database>, since: number): Promise<WindowRebuild> {
  const startMinute = Math.floor(since / 60_000);
  const baseline = new Map<string, Usage>();
  const rows = await db.selectFrom('usage_minutes').select(['scope', 'requests', 'tokens']).where('minute', '=', startMinute).execute();
  for (const r of rows) baseline.set(r.scope, { requests: Number(r.requests), tokens: Number(r.tokens) });
  return {
    since,
    async load(spec, now) {
      const parsed = parseWindowKey(spec.key);
      if (!parsed) return [];
      const n = Math.round(spec.windowMs / spec.bucketMs);
      const fromMinute = Math.floor(((bucketOf(now, spec.bucketMs) - n + 1) * spec.bucketMs) / 60_000);
      const scopes = await dbScopes(db, parsed.scope);
      const minutes = fromMinute < startMinute ? await minutesOf(db, scopes, fromMinute, startMinute) : [];
      const atStart = { minute: startMinute, requests: 0, tokens: 0 };
      for (const s of scopes) {
        const b = baseline.get(s);
        if (b) {
          atStart.requests += b.requests;
          atStart.tokens += b.tokens;
        }
      }
      if (atStart.requests > 0) minutes.push(atStart);
      const tokens = WINDOWS[parsed.name].kind === 'tokens';
      // Everything here was admitted before `since`.
      const last = bucketOf(since - 1, spec.bucketMs);
      const out = new Map<number, number>();
      for (const m of minutes) {
        // The bucket of the minute's last millisecond: exact when buckets are whole minutes.
        const b = Math.min(Math.floor(((m.minute + 1) * 60_000 - 1) / spec.bucketMs), last);
        out.set(b, (out.get(b) ?? 0) + (tokens ? m.tokens : m.requests));
      }
      return [...out];
    },
  };
}

/**
 * The scope and window name of a counter key. The engine names window counters
 * `rl:<scope>:<window>` (compile() in engine.ts); a scope may itself hold colons (member:3:7).
 */
export function parseWindowKey(key: string): { scope: string; name: WindowName } | undefined {
  if (!key.startsWith('rl:')) return undefined;
  const i = key.lastIndexOf(':');
  const name = key.slice(i + 1);
  if (i <= 3 || !(name in WINDOWS)) return undefined;
  return { scope: key.slice(3, i), name: name as WindowName };
}

/**
 * The usage_minutes scopes a limits scope sums: teams and organizations have their own rows; a key
 * sums its rotation lineage, a member the keys it owns in the team, a service account its keys.
 */
async function dbScopes(db: Kysely<Database>, scope: string): Promise<string[]> {
  const { type, id } = splitScope(scope);
  if (type === 'team' || type === 'org') return [scope];
  let q = db.selectFrom('api_keys').select('id');
  if (type === 'key') q = q.where((eb) => eb.or([eb('id', '=', Number(id)), eb('lineage_id', '=', Number(id))]));
  else if (type === 'sa') q = q.where('service_account_id', '=', Number(id));
  else if (type === 'member') {
    const [teamId, userId] = id.split(':').map(Number);
    q = q.where('user_id', '=', userId!).where('team_id', '=', teamId!).where('service_account_id', 'is', null);
  } else return [];
  return (await q.execute()).map((k) => `key:${k.id}`);
}

/** Usage per minute of these scopes in [from, to). */
async function minutesOf(db: Kysely<Database>, scopes: string[], from: number, to: number): Promise<Array<{ minute: number } & Usage>> {
  if (scopes.length === 0) return [];
  const rows = await db
    .selectFrom('usage_minutes')
    .select(['minute', sql<number>`sum(requests)`.as('requests'), sql<number>`sum(tokens)`.as('tokens')])
    .where('scope', 'in', scopes)
    .where('minute', '>=', from)
    .where('minute', '<', to)
    .groupBy('minute')
    .execute();
  return rows.map((r) => ({ minute: Number(r.minute), requests: Number(r.requests), tokens: Number(r.tokens) }));
}
