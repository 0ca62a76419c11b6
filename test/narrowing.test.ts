// The pure parts of writing access rules: entries validated and named as `models[i]`, CIDRs stored
// in one canonical spelling, scopes as a string or a list, and the narrowing-only check of a team
// against its org and of a key against its team and org (src/access/narrowing.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPEN_RULE, type AccessRule, type OrgAccess } from '../src/policy/access-rules.ts';
import { aboveKey, aboveTeam, narrowingProblem } from '../src/access/narrowing.ts';
import { applyRulePatch, rulePatch, scopesInput } from '../src/access/rule-input.ts';
import { canonicalCidr } from '../src/access/canonical-cidr.ts';
import { ApiError } from '../src/http/errors.ts';

const rule = (r: Partial<AccessRule>): AccessRule => ({ ...OPEN_RULE, ...r });
const groups = new Map([
  [1, { id: 1, name: 'cheap', models: ['gpt-4o-mini', 'claude-3-haiku'] }],
  [2, { id: 2, name: 'openai', models: ['gpt-4o*', 'o1'] }],
  [3, { id: 3, name: 'premium', models: ['o1-pro', 'gpt-4.5'] }],
]);
const book = (org: AccessRule, teams: Array<[number, AccessRule]> = []): OrgAccess => ({ org, teams: new Map(teams), groups });

function param(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 'invalid_request');
    assert.ok(err.message.startsWith(`${err.param}: `), err.message);
    return err.param;
  }
}

test('rule fields: each entry is checked and named by index; duplicates dropped; null blocklists mean empty', () => {
  assert.equal(param(() => rulePatch({ models: ['gpt-4o', 'gpt-*-mini'] })), 'models[1]');
  assert.equal(param(() => rulePatch({ models: ['ok', 42] })), 'models[1]');
  assert.equal(param(() => rulePatch({ models: [' gpt-4o'] })), 'models[0]');
  assert.equal(param(() => rulePatch({ blocked_models: [''] })), 'blocked_models[0]');
  assert.equal(param(() => rulePatch({ access_groups: [1, 'two'] })), 'access_groups[1]');
  assert.equal(param(() => rulePatch({ access_groups: [0] })), 'access_groups[0]');
  assert.equal(param(() => rulePatch({ ip_allowlist: ['10.0.0.0/8', '10.0.0.0/33'] })), 'ip_allowlist[1]');
  assert.equal(param(() => rulePatch({ ip_allowlist: ['example.com'] })), 'ip_allowlist[0]');
  assert.equal(param(() => rulePatch({ ip_allowlist: ['2001:db8::/129'] })), 'ip_allowlist[0]');
  assert.deepEqual(rulePatch({ models: ['a', 'b*', 'a'], access_groups: [2, 2, 1], blocked_models: null, ip_allowlist: null }), {
    models: ['a', 'b*'], accessGroups: [2, 1], blockedModels: [], ipAllowlist: [],
  });
  assert.deepEqual(rulePatch({}), {}, 'absent fields are left out');
  assert.deepEqual(rulePatch({ models: null }), { models: null }, 'null models: inherit');
});

test('PATCH merges the given fields; PUT (from the open rule) replaces all', () => {
  const current = rule({ models: ['a'], blockedModels: ['b'], ipAllowlist: ['10.0.0.0/8'] });
  assert.deepEqual(applyRulePatch(current, { accessGroups: [1] }), { ...current, accessGroups: [1] });
  assert.deepEqual(applyRulePatch(current, { models: null }), { ...current, models: null });
  assert.deepEqual(applyRulePatch(OPEN_RULE, { accessGroups: [1] }), rule({ accessGroups: [1] }));
});

test('CIDRs are stored canonically: network address, compressed IPv6, a prefix length always', () => {
  assert.equal(canonicalCidr('203.0.113.7'), '203.0.113.7/32');
  assert.equal(canonicalCidr('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(canonicalCidr('0.0.0.0/0'), '0.0.0.0/0');
  assert.equal(canonicalCidr('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1/128');
  assert.equal(canonicalCidr('2001:db8:abcd:12::1/48'), '2001:db8:abcd::/48');
  assert.equal(canonicalCidr('::1'), '::1/128');
  assert.equal(canonicalCidr('::/0'), '::/0');
  assert.equal(canonicalCidr('::ffff:10.1.2.3/104'), '10.0.0.0/8', 'IPv4-mapped: judged as IPv4, stored as IPv4');
  assert.equal(canonicalCidr('[fe80::1]'), 'fe80::1/128');
  assert.equal(canonicalCidr('10.0.0.0/x'), undefined);
  assert.deepEqual(rulePatch({ ip_allowlist: ['10.1.2.3/8', ' 10.0.0.0/8 ', '2001:DB8::/32'] }).ipAllowlist, ['10.0.0.0/8', '2001:db8::/32']);
});

test('scopes: a string or a list, canonical order; an unknown name is a 400 naming scopes or scopes[i]', () => {
  assert.equal(scopesInput('embeddings chat'), 'chat embeddings');
  assert.equal(scopesInput(['models', 'chat']), 'chat models');
  assert.equal(scopesInput(['chat', '*']), '*');
  assert.equal(scopesInput('chat,completions'), 'chat completions');
  assert.equal(param(() => scopesInput('chat embeddings:read')), 'scopes');
  assert.equal(param(() => scopesInput(['chat', 'admin'])), 'scopes[1]');
  assert.equal(param(() => scopesInput(['chat', 7])), 'scopes[1]');
  assert.equal(param(() => scopesInput('')), 'scopes');
  assert.equal(param(() => scopesInput([])), 'scopes');
  assert.equal(param(() => scopesInput(42)), 'scopes');
});

test('a team may only narrow its org: names, patterns, blocklists and groups', () => {
  const open = book(OPEN_RULE);
  assert.equal(narrowingProblem(open, aboveTeam(open), { models: ['anything', 'any*'], accessGroups: [3] }), null, 'an org that inherits allows everything');
  assert.equal(narrowingProblem(open, aboveTeam(open), { accessGroups: [1, 99] })?.param, 'access_groups[1]', 'an unknown (or another org\'s) group');

  const org = book(rule({ models: ['gpt-4o*', 'claude-3-haiku'], accessGroups: [1], blockedModels: ['gpt-4o-audio*', 'gpt-4o-2024'] }));
  const check = (patch: Parameters<typeof narrowingProblem>[2]) => narrowingProblem(org, aboveTeam(org), patch);
  assert.equal(check({ models: ['gpt-4o', 'gpt-4o-mini*', 'claude-3-haiku'] }), null);
  assert.equal(check({ models: ['gpt-4o', 'gpt-4'] })?.param, 'models[1]', 'not in the org set');
  assert.equal(check({ models: ['gpt-*'] })?.param, 'models[0]', 'a pattern wider than the org\'s');
  assert.equal(check({ models: ['gpt-4o-2024'] })?.param, 'models[0]', 'blocked by the org');
  assert.match(check({ models: ['gpt-4o-audio-preview*'] })!.message, /blocked by the org/);
  assert.equal(check({ blockedModels: ['gpt-4', 'whatever*'] }), null, 'blocklists can always be added');
  assert.equal(check({ accessGroups: [1] }), null, 'one of the org\'s groups');
  assert.equal(check({ accessGroups: [2] })?.param, 'access_groups[0]', 'not one of the org\'s groups, and o1 is outside it');
  assert.match(check({ accessGroups: [2] })!.message, /"openai" \(2\) is not visible through the org/);
  const star = book(rule({ models: ['*'] }));
  assert.equal(narrowingProblem(star, aboveTeam(star), { accessGroups: [3], models: ['x*'] }), null, 'an org allowing "*" restricts nothing');
  assert.equal(narrowingProblem(org, aboveTeam(org), { models: ['claude-3-haiku'], accessGroups: [] }), null);
});

test('a key may only narrow its team and its org; a key without a team only its org', () => {
  const b = book(rule({ accessGroups: [1, 2] }), [[7, rule({ accessGroups: [1] })], [8, OPEN_RULE]]);
  assert.equal(narrowingProblem(b, aboveKey(b, 7), { models: ['gpt-4o-mini'] }), null);
  assert.equal(narrowingProblem(b, aboveKey(b, 7), { models: ['gpt-4o'] })?.param, 'models[0]', 'the org allows it, the team does not');
  assert.match(narrowingProblem(b, aboveKey(b, 7), { models: ['gpt-4o'] })!.message, /not allowed by the team/);
  assert.equal(narrowingProblem(b, aboveKey(b, 7), { accessGroups: [2] })?.param, 'access_groups[0]', 'a group outside the team');
  assert.equal(narrowingProblem(b, aboveKey(b, 8), { accessGroups: [2], models: ['gpt-4o-2025'] }), null, 'a team that inherits: the org decides');
  assert.equal(narrowingProblem(b, aboveKey(b, 8), { accessGroups: [3] })?.param, 'access_groups[0]', 'outside the org through an open team');
  assert.equal(narrowingProblem(b, aboveKey(b, null), { models: ['o1'] }), null, 'personal key: only the org');
  assert.equal(narrowingProblem(b, aboveKey(b, null), { models: ['o1-pro'] })?.param, 'models[0]');
  const blocked = book(OPEN_RULE, [[7, rule({ blockedModels: ['o1*'] })]]);
  assert.equal(narrowingProblem(blocked, aboveKey(blocked, 7), { models: ['o1-mini'] })?.param, 'models[0]', 'blocked by the team');
  assert.equal(narrowingProblem(blocked, aboveKey(blocked, 7), { models: ['o*'] }), null, 'a pattern only partly blocked is allowed (the blocklist still wins per request)');
});
