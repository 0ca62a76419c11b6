// The access-rule fields as the API accepts them on the org (/api/orgs/current/access), teams and
// keys, with the names of docs/access.md: `models` and `access_groups` (null or absent: inherit),
// `blocked_models`, `ip_allowlist`, and on keys `scopes`. Zod checks the shape (a list, its length);
// each entry is checked here so that a 400 names it as `models[2]`, like /v1 names `messages[0]`.
// Whether a level may name what it names (narrowing) is access/narrowing.ts, inside the transaction.
import { z } from 'zod';
import { invalid } from '../http/errors.ts';
import { MAX_INT32 } from '../http/validate.ts';
import { modelEntryProblem } from '../policy/model-set.ts';
import { cidrProblem } from '../policy/ip-allowlist.ts';
import { normalizeScopes } from '../policy/scopes.ts';
import type { AccessRule } from '../policy/access-rules.ts';
import { canonicalCidr } from './canonical-cidr.ts';

/** Bounds that keep a compiled rule small (a KeyContext holds every level's). */
export const MAX_MODEL_ENTRIES = 1000;
export const MAX_GROUPS_PER_RULE = 200;
export const MAX_CIDRS = 200;

const list = (max: number) => z.array(z.unknown()).max(max, `must have at most ${max} entries`);

export const ruleFields = {
  models: list(MAX_MODEL_ENTRIES).nullable().optional(),
  access_groups: list(MAX_GROUPS_PER_RULE).nullable().optional(),
  blocked_models: list(MAX_MODEL_ENTRIES).nullable().optional(),
  ip_allowlist: list(MAX_CIDRS).nullable().optional(),
};

export const ruleBody = z.strictObject(ruleFields);
export type RuleFieldsInput = { [K in keyof typeof ruleFields]?: unknown[] | null | undefined };

/** `scopes` on keys: "chat embeddings" or ["chat", "embeddings"]; checked by scopesInput. */
export const scopesField = z.unknown().optional();

/** The fields a write gives, validated and in their stored form; absent ones are left out. */
export interface RulePatch {
  models?: string[] | null;
  accessGroups?: number[] | null;
  blockedModels?: string[];
  ipAllowlist?: string[];
}

export const hasRuleFields = (input: RuleFieldsInput): boolean =>
  input.models !== undefined || input.access_groups !== undefined || input.blocked_models !== undefined || input.ip_allowlist !== undefined;

/** Names and patterns, each valid (policy/model-set.ts), duplicates dropped, order kept. */
export function modelEntries(field: string, entries: unknown[]): string[] {
  const out = new Set<string>();
  entries.forEach((e, i) => {
    if (typeof e !== 'string') throw invalid(`${field}[${i}]`, 'must be a model name or a pattern such as "gpt-4o*"');
    const problem = modelEntryProblem(e);
    if (problem) throw invalid(`${field}[${i}]`, problem);
    out.add(e);
  });
  return [...out];
}

function groupIds(entries: unknown[]): number[] {
  const out = new Set<number>();
  entries.forEach((e, i) => {
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > MAX_INT32) throw invalid(`access_groups[${i}]`, 'must be an access group id');
    out.add(e);
  });
  return [...out];
}

function cidrs(entries: unknown[]): string[] {
  const out = new Set<string>();
  entries.forEach((e, i) => {
    if (typeof e !== 'string') throw invalid(`ip_allowlist[${i}]`, 'must be an IPv4 or IPv6 address or CIDR range');
    const problem = cidrProblem(e.trim());
    if (problem) throw invalid(`ip_allowlist[${i}]`, problem);
    out.add(canonicalCidr(e.trim())!);
  });
  return [...out];
}

/** Validates the given fields (400 naming `field[i]`); null blocklists and allowlists mean empty. */
export function rulePatch(input: RuleFieldsInput): RulePatch {
  const patch: RulePatch = {};
  if (input.models !== undefined) patch.models = input.models === null ? null : modelEntries('models', input.models);
  if (input.access_groups !== undefined) patch.accessGroups = input.access_groups === null ? null : groupIds(input.access_groups);
  if (input.blocked_models !== undefined) patch.blockedModels = input.blocked_models === null ? [] : modelEntries('blocked_models', input.blocked_models);
  if (input.ip_allowlist !== undefined) patch.ipAllowlist = input.ip_allowlist === null ? [] : cidrs(input.ip_allowlist);
  return patch;
}

/** `base` with the patch's fields replaced (PATCH); pass OPEN_RULE as `base` to replace all (PUT). */
export function applyRulePatch(base: AccessRule, patch: RulePatch): AccessRule {
  return {
    models: patch.models !== undefined ? patch.models : base.models,
    accessGroups: patch.accessGroups !== undefined ? patch.accessGroups : base.accessGroups,
    blockedModels: patch.blockedModels ?? base.blockedModels,
    ipAllowlist: patch.ipAllowlist ?? base.ipAllowlist,
  };
}

/** The canonical stored scopes (policy/scopes.ts) of a string or a list; 400 naming `scopes` or `scopes[i]`. */
export function scopesInput(value: unknown): string {
  let input: string | string[];
  if (typeof value === 'string') {
    if (value.length > 500) throw invalid('scopes', 'must be at most 500 characters');
    input = value;
  } else if (Array.isArray(value)) {
    if (value.length > 50) throw invalid('scopes', 'must have at most 50 entries');
    value.forEach((s, i) => {
      if (typeof s !== 'string') throw invalid(`scopes[${i}]`, 'must be a scope name');
    });
    input = value as string[];
  } else throw invalid('scopes', 'must be a space-separated string or a list of scope names');
  const normal = normalizeScopes(input);
  if (normal.ok) return normal.value;
  throw invalid(normal.index !== null && Array.isArray(value) ? `scopes[${normal.index}]` : 'scopes', normal.message);
}
