// A key's effective model set: the intersection of the org's, its team's and its own, minus every
// level's blocklist. Compiled once per cached KeyContext (sets built, groups expanded); a request
// costs one Map lookup once a model name has been judged for this key (bounded memo).
import type { AccessGroup, AccessRule, OrgAccess } from './access-rules.ts';
import { isRestricted, OPEN_RULE } from './access-rules.ts';
import { ModelSet } from './model-set.ts';

export type AccessLevel = 'org' | 'team' | 'key';

interface Level {
  level: AccessLevel;
  /** null: inherits (no restriction of its own) */
  allow: ModelSet | null;
  block: ModelSet | null;
}

export interface Refusal {
  level: AccessLevel;
  reason: 'not_in_allowlist' | 'blocked';
}

/** The models a rule allows: its own names plus its groups' current models; null when it inherits. */
export function allowedBy(rule: AccessRule, groups: Map<number, AccessGroup>): ModelSet | null {
  if (!isRestricted(rule)) return null;
  const entries = [...(rule.models ?? [])];
  for (const id of rule.accessGroups ?? []) entries.push(...(groups.get(id)?.models ?? []));
  return new ModelSet(entries);
}

function compile(level: AccessLevel, rule: AccessRule, groups: Map<number, AccessGroup>): Level {
  return { level, allow: allowedBy(rule, groups), block: rule.blockedModels.length > 0 ? new ModelSet(rule.blockedModels) : null };
}

/**
 * Per key, the allowed names seen last (a prefix pattern is a scan; a remembered name is one lookup).
 * Only allowed names are kept, so a caller sending made-up names cannot grow a cached key's memory.
 */
const MEMO = 64;

/** The org's and teams' levels are compiled once per loaded OrgAccess and shared by all their keys. */
const compiled = new WeakMap<AccessRule, Level>();
function shared(level: AccessLevel, rule: AccessRule, groups: Map<number, AccessGroup>): Level {
  let out = compiled.get(rule);
  if (!out) compiled.set(rule, (out = compile(level, rule, groups)));
  return out;
}

export class ModelAccess {
  private readonly levels: Level[];
  private readonly memo = new Set<string>();
  /** no level restricts or blocks anything: every routed model is allowed, no lookup needed */
  readonly open: boolean;

  constructor(levels: Level[]) {
    this.levels = levels.filter((l) => l.allow !== null || l.block !== null);
    this.open = this.levels.length === 0;
  }

  static forKey(book: OrgAccess, teamId: number | null, key: AccessRule): ModelAccess {
    const levels = [shared('org', book.org, book.groups)];
    if (teamId !== null) levels.push(shared('team', book.teams.get(teamId) ?? OPEN_RULE, book.groups));
    levels.push(compile('key', key, book.groups));
    return new ModelAccess(levels);
  }

  /** The first level that removes this model (blocklists are checked first: they always win), or null. */
  refusal(model: string): Refusal | null {
    if (this.open) return null;
    if (this.memo.has(model)) return null;
    let out: Refusal | null = null;
    for (const l of this.levels) if (l.block?.has(model)) {
      out = { level: l.level, reason: 'blocked' };
      break;
    }
    if (!out) for (const l of this.levels) if (l.allow && !l.allow.has(model)) {
      out = { level: l.level, reason: 'not_in_allowlist' };
      break;
    }
    if (out === null) {
      if (this.memo.size >= MEMO) this.memo.clear();
      this.memo.add(model);
    }
    return out;
  }
}
