// Access rules at each level of the asset boundary (org → team → key) and the access groups they
// name. Absent `models` and `access_groups` mean "inherit": the level above decides. Either one
// present restricts the level to their union. `blocked_models` removes models at any level and
// always wins. Stored as JSON text (access_rules rows for the org and teams, api_keys columns for
// keys); parsed here, compiled in policy/model-access.ts.
export interface AccessRule {
  models: string[] | null;
  accessGroups: number[] | null;
  blockedModels: string[];
  ipAllowlist: string[];
}

export const OPEN_RULE: AccessRule = Object.freeze({ models: null, accessGroups: null, blockedModels: [], ipAllowlist: [] }) as AccessRule;

export interface AccessGroup {
  id: number;
  name: string;
  models: string[];
}

/** Everything an organization's keys need to compile their access: loaded once per org. */
export interface OrgAccess {
  org: AccessRule;
  teams: Map<number, AccessRule>;
  groups: Map<number, AccessGroup>;
}

/** The stored model-access JSON of a key ({models?, access_groups?, blocked_models?}). */
export interface StoredModelAccess {
  models?: string[] | null;
  access_groups?: number[] | null;
  blocked_models?: string[];
}

export function ruleFromStored(modelAccess: string, ipAllowlist: string): AccessRule {
  const m = JSON.parse(modelAccess) as StoredModelAccess & { mode?: string };
  return { models: m.models ?? null, accessGroups: m.access_groups ?? null, blockedModels: m.blocked_models ?? [], ipAllowlist: JSON.parse(ipAllowlist) as string[] };
}

export function storedModelAccess(rule: AccessRule): string {
  const out: StoredModelAccess = {};
  if (rule.models !== null) out.models = rule.models;
  if (rule.accessGroups !== null) out.access_groups = rule.accessGroups;
  if (rule.blockedModels.length > 0) out.blocked_models = rule.blockedModels;
  return JSON.stringify(out);
}

export const isRestricted = (rule: AccessRule): boolean => rule.models !== null || rule.accessGroups !== null;

/** The API view of a rule (the names used on keys, teams and the org policy). */
export function ruleView(rule: AccessRule) {
  return { models: rule.models, access_groups: rule.accessGroups, blocked_models: rule.blockedModels, ip_allowlist: rule.ipAllowlist };
}
