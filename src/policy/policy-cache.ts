// Which levels apply to a key, with their policies, cached per scope. A policy change publishes a
// 'policy' invalidation for its scope; the entry is dropped at once (on every replica). A team
// that shares its token limits fairly among its members is reloaded (with its active member
// count) when its membership changes: those changes publish a 'policy' invalidation for the team.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Invalidation } from '../cache/invalidator.ts';
import type { KeyContext } from '../keys/key-context.ts';
import { loadPolicies } from './policies.repository.ts';
import type { LevelPolicy } from './policy.ts';
import type { Level } from './admission.ts';
import { BoundedCache } from '../cache/bounded-cache.ts';
import { activeMembers, withMemberShare } from './member-share.ts';

const scopeMemo = new WeakMap<KeyContext, Array<{ level: Level; scope: string }>>();

/** The levels a key belongs to, innermost first (memoized per cached KeyContext). */
export function scopesFor(ctx: KeyContext): Array<{ level: Level; scope: string }> {
  const memo = scopeMemo.get(ctx);
  if (memo) return memo;
  const out: Array<{ level: Level; scope: string }> = [{ level: 'key', scope: `key:${ctx.lineageId}` }];
  if (ctx.serviceAccountId !== null) out.push({ level: 'service_account', scope: `sa:${ctx.serviceAccountId}` });
  else if (ctx.teamId !== null && ctx.userId !== null) out.push({ level: 'member', scope: `member:${ctx.teamId}:${ctx.userId}` });
  if (ctx.teamId !== null) out.push({ level: 'team', scope: `team:${ctx.teamId}` });
  out.push({ level: 'org', scope: `org:${ctx.orgId}` });
  scopeMemo.set(ctx, out);
  return out;
}

/** The levels with the member level under its team's member share (the same array when none applies). */
function applyMemberShare(levels: LevelPolicy[]): LevelPolicy[] {
  const m = levels.findIndex((l) => l.level === 'member');
  if (m === -1) return levels;
  const team = levels.find((l) => l.level === 'team');
  if (!team || team.policy.memberShare === null) return levels;
  const out = levels.slice();
  out[m] = withMemberShare(levels[m]!, team);
  return out;
}

export class PolicyCache {
  // LevelPolicy objects keep their identity while cached, so the engine can compile each once.
  private readonly entries: BoundedCache<string, LevelPolicy>;
  private readonly db: Kysely<Database>;
  private generation = 0;
  /**
   * The levels last returned for a key (with a team's member share applied), and the cached
   * entries they came from: handed out again, with no new array, while every entry still holds.
   */
  private readonly memo = new WeakMap<KeyContext, { levels: LevelPolicy[]; sources: LevelPolicy[] }>();

  constructor(db: Kysely<Database>, max: number) {
    this.db = db;
    this.entries = new BoundedCache(max);
  }

  /** The levels when every one is cached (the warm path, synchronous), else undefined. */
  cachedLevels(ctx: KeyContext): LevelPolicy[] | undefined {
    const memo = this.memo.get(ctx);
    if (!memo) return undefined;
    const scopes = scopesFor(ctx);
    for (let i = 0; i < scopes.length; i++) if (this.entries.get(scopes[i]!.scope) !== memo.sources[i]) return undefined;
    return memo.levels;
  }

  async levelsFor(ctx: KeyContext): Promise<LevelPolicy[]> {
    const memo = this.cachedLevels(ctx);
    if (memo) return memo;
    const scopes = scopesFor(ctx);
    const out: LevelPolicy[] = [];
    let missing: string[] | undefined;
    for (const s of scopes) {
      const level = this.entries.get(s.scope);
      if (level) out.push(level);
      else (missing ??= []).push(s.scope);
    }
    if (!missing) {
      const levels = applyMemberShare(out);
      this.memo.set(ctx, { levels, sources: out });
      return levels;
    }
    const generation = this.generation;
    const loaded = await loadPolicies(this.db, missing);
    // A team sharing its limits fairly: how many active members share them (one query, cold path only).
    const fair = missing.filter((s) => s.startsWith('team:') && loaded.get(s)!.memberShare === 'fair').map((s) => Number(s.slice(5)));
    const members = fair.length > 0 ? await activeMembers(this.db, fair) : undefined;
    return applyMemberShare(scopes.map((s) => {
      const cached = this.entries.get(s.scope);
      if (cached) return cached;
      const level: LevelPolicy = { ...s, policy: loaded.get(s.scope)! };
      const count = s.level === 'team' ? members?.get(Number(s.scope.slice(5))) : undefined;
      if (count !== undefined) level.members = count;
      if (generation === this.generation) this.entries.set(s.scope, level);
      return level;
    }));
  }

  invalidate(event: Invalidation): void {
    this.generation++;
    if (event.kind === 'policy') this.entries.delete(event.scope);
    else if (event.kind === 'all' || event.kind === 'org') this.entries.clear();
  }
}
