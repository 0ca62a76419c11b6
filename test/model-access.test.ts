// The pure parts of the asset boundary: model sets with prefix patterns, the org ∩ team ∩ key
// intersection with blocklists, IP allowlists and scopes. The running server is tested in
// access-matrix.test.ts, ip-allowlist.test.ts and scopes.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelSet, modelEntryProblem } from '../src/policy/model-set.ts';
import { ModelAccess } from '../src/policy/model-access.ts';
import { OPEN_RULE, type AccessRule, type OrgAccess } from '../src/policy/access-rules.ts';
import { IpAllowlist } from '../src/policy/ip-allowlist.ts';
import { normalizeScopes, scopeMask, scopeBit } from '../src/policy/scopes.ts';

const rule = (r: Partial<AccessRule>): AccessRule => ({ ...OPEN_RULE, ...r });

test('model sets: exact names, prefix patterns, and whether one entry covers another', () => {
  const s = new ModelSet(['gpt-4o*', 'claude-3-haiku', 'anthropic/*']);
  assert.ok(s.has('gpt-4o') && s.has('gpt-4o-mini') && s.has('anthropic/claude-x') && s.has('claude-3-haiku'));
  assert.ok(!s.has('gpt-4') && !s.has('claude-3-haiku-2') && !s.has('openai/gpt-4o'));
  assert.ok(s.covers('gpt-4o-mini*') && s.covers('gpt-4o*') && !s.covers('gpt-4*') && !s.covers('claude-3-*'));
  assert.ok(new ModelSet(['*']).covers('anything*'));
  assert.equal(modelEntryProblem('gpt-*-mini')?.includes('may only end'), true);
  assert.equal(modelEntryProblem(''), 'must not be empty');
  assert.equal(modelEntryProblem('gpt-4o'), null);
});

test('the effective set is org ∩ team ∩ key minus every blocklist, and names the level that removed a model', () => {
  const book: OrgAccess = {
    org: rule({ blockedModels: ['o1-pro'] }),
    teams: new Map([[7, rule({ models: ['gpt-4o*'], accessGroups: [1] })], [8, rule({ blockedModels: ['gpt-4o'] })]]),
    groups: new Map([[1, { id: 1, name: 'claude', models: ['claude-*'] }]]),
  };
  const cases: Array<[number | null, Partial<AccessRule>, string, string | null]> = [
    [7, {}, 'gpt-4o-mini', null],
    [7, {}, 'claude-3-opus', null], // through the team's group
    [7, {}, 'o1-pro', 'org:blocked'],
    [7, {}, 'gpt-3.5-turbo', 'team:not_in_allowlist'],
    [7, { models: ['gpt-4o-mini'] }, 'gpt-4o', 'key:not_in_allowlist'],
    [7, { models: ['gpt-4o-mini'] }, 'gpt-4o-mini', null],
    [7, { accessGroups: [1] }, 'claude-3-opus', null],
    [7, { accessGroups: [1] }, 'gpt-4o', 'key:not_in_allowlist'],
    [7, { models: ['gpt-3.5-turbo'] }, 'gpt-3.5-turbo', 'team:not_in_allowlist'], // a key cannot widen its team
    [7, { blockedModels: ['gpt-4o-*'] }, 'gpt-4o-mini', 'key:blocked'],
    [8, { models: ['gpt-4o'] }, 'gpt-4o', 'team:blocked'], // blocklists win over any allowlist
    [null, {}, 'anything', null],
    [null, { models: [] }, 'anything', 'key:not_in_allowlist'],
  ];
  for (const [team, key, model, expected] of cases) {
    const access = ModelAccess.forKey(book, team, rule(key));
    const r = access.refusal(model);
    assert.equal(r === null ? null : `${r.level}:${r.reason}`, expected, `team ${team}, key ${JSON.stringify(key)}, ${model}`);
    assert.deepEqual(access.refusal(model), r, 'asked twice, the same answer (the memo)');
  }
  assert.ok(ModelAccess.forKey({ org: OPEN_RULE, teams: new Map(), groups: new Map() }, 1, OPEN_RULE).open);
});

test('IP allowlists: every level with a list must let the address in; IPv4-mapped IPv6 is judged as IPv4', () => {
  const ip = new IpAllowlist([
    { level: 'org', cidrs: [] },
    { level: 'team', cidrs: ['10.0.0.0/8', '2001:db8::/32'] },
    { level: 'key', cidrs: ['10.1.0.0/16', '2001:db8:1::/48'] },
  ]);
  assert.equal(ip.refusedBy('10.1.2.3'), null);
  assert.equal(ip.refusedBy('::ffff:10.1.2.3'), null);
  assert.equal(ip.refusedBy('10.2.0.1'), 'key');
  assert.equal(ip.refusedBy('192.168.1.1'), 'team');
  assert.equal(ip.refusedBy('2001:db8:1::5'), null);
  assert.equal(ip.refusedBy('2001:db8:2::5'), 'key');
  assert.equal(ip.refusedBy(''), 'team', 'an unknown address is refused');
  assert.ok(new IpAllowlist([{ level: 'key', cidrs: [] }]).open);
});

test('scopes: canonical form, unknown names refused with their index, masks per endpoint', () => {
  assert.deepEqual(normalizeScopes(['embeddings', 'chat', 'chat']), { ok: true, value: 'chat embeddings' });
  assert.deepEqual(normalizeScopes('chat, *'), { ok: true, value: '*' });
  assert.deepEqual(normalizeScopes(['chat', 'embeddings:read']), { ok: false, index: 1, message: 'unknown scope "embeddings:read"; known: *, chat, completions, embeddings, responses, messages, models' });
  assert.equal(normalizeScopes([]).ok, false);
  const mask = scopeMask('chat embeddings');
  assert.ok(mask & scopeBit('chat') && mask & scopeBit('embeddings'));
  assert.equal(mask & scopeBit('completions'), 0);
  assert.equal(scopeMask('*') & scopeBit('models'), scopeBit('models'));
});
