// Narrowing only (issue 9, seed 002): a team may only name what its organization allows, and a key
// only what its team and its organization allow. The hot path intersects the levels anyway
// (policy/model-access.ts), so this check is not what keeps a key inside its boundary; it is what
// tells an admin, at write time, that a rule asks for more than it can ever get (400 naming the
// entry), instead of a rule that silently means less than it says. Blocklists and IP allowlists
// only ever narrow, so they are never refused here.
//
// An entry is allowed by a level above when:
//   exact name   the level's effective set has it: not blocked there, and allowed (when restricted)
//   pattern      the level's allowed set covers every name the pattern can match (ModelSet.covers),
//                and its blocklist does not cover all of them
//   group        the level inherits; or the group is one of its access groups; or every entry of
//                the group is covered by what it allows (so `models: ["*"]` restricts nothing)
// Pure functions over OrgAccess, which the caller loads inside its transaction.
import { isRestricted, OPEN_RULE, type AccessRule, type OrgAccess } from '../policy/access-rules.ts';
import { allowedBy } from '../policy/model-access.ts';
import { isPattern, ModelSet } from '../policy/model-set.ts';
import type { RulePatch } from './rule-input.ts';

export interface UpperLevel {
  level: 'org' | 'team';
  rule: AccessRule;
}

export interface NarrowingProblem {
  param: string;
  message: string;
}

/** The levels above a team's rule. */
export const aboveTeam = (book: OrgAccess): UpperLevel[] => [{ level: 'org', rule: book.org }];

/** The levels above a key's rule: the org, and its team when it has one. */
export const aboveKey = (book: OrgAccess, teamId: number | null): UpperLevel[] =>
  teamId === null ? aboveTeam(book) : [...aboveTeam(book), { level: 'team', rule: book.teams.get(teamId) ?? OPEN_RULE }];

interface Compiled extends UpperLevel {
  allow: ModelSet | null;
  block: ModelSet | null;
}

const compile = (book: OrgAccess, above: UpperLevel[]): Compiled[] =>
  above.map((u) => ({ ...u, allow: allowedBy(u.rule, book.groups), block: u.rule.blockedModels.length > 0 ? new ModelSet(u.rule.blockedModels) : null }));

/** What a level allows, in a few words, for the error message. */
function describe(book: OrgAccess, rule: AccessRule): string {
  const names = [...(rule.models ?? []), ...(rule.accessGroups ?? []).map((id) => `group "${book.groups.get(id)?.name ?? id}"`)];
  if (names.length === 0) return 'nothing';
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')} and ${names.length - 8} more`;
}

function entryProblem(book: OrgAccess, levels: Compiled[], entry: string): string | null {
  for (const l of levels) {
    if (l.block?.covers(entry)) return isPattern(entry) ? `every model "${entry}" names is blocked by the ${l.level}` : `"${entry}" is blocked by the ${l.level}`;
    if (l.allow && !l.allow.covers(entry)) {
      const what = isPattern(entry) ? `"${entry}" is wider than what the ${l.level} allows` : `"${entry}" is not allowed by the ${l.level}`;
      return `${what} (the ${l.level} allows: ${describe(book, l.rule)}); a rule can only narrow the one above it`;
    }
  }
  return null;
}

function groupProblem(book: OrgAccess, levels: Compiled[], id: number): string | null {
  const group = book.groups.get(id);
  if (!group) return `access group ${id} does not exist`;
  for (const l of levels) {
    if (!isRestricted(l.rule) || l.rule.accessGroups?.includes(id)) continue;
    if (group.models.every((m) => l.allow!.covers(m))) continue;
    return `access group "${group.name}" (${id}) is not visible through the ${l.level}: it is not one of the ${l.level}'s access groups and the ${l.level} does not allow all of its models (the ${l.level} allows: ${describe(book, l.rule)})`;
  }
  return null;
}

/** The first entry of a patch that asks for more than the levels above allow (or names an unknown group), or null. */
export function narrowingProblem(book: OrgAccess, above: UpperLevel[], patch: RulePatch): NarrowingProblem | null {
  const levels = compile(book, above);
  for (const [i, entry] of (patch.models ?? []).entries()) {
    const message = entryProblem(book, levels, entry);
    if (message) return { param: `models[${i}]`, message };
  }
  for (const [i, id] of (patch.accessGroups ?? []).entries()) {
    const message = groupProblem(book, levels, id);
    if (message) return { param: `access_groups[${i}]`, message };
  }
  return null;
}
