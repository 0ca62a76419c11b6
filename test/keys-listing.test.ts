// Key listings on both dialects (docs/api.md, "Key listings"): each filter, each sort with its
// NULL placement, spend this month from real requests, cursor pages that neither repeat nor skip
// keys when keys are created between them, the legacy offset/after paging, and a 400 naming the
// parameter for every value the listing cannot honour; the owner's name on each row; on SQLite,
// the trigram index (migration 0020) answering searches exactly as the LIKE it stands in for, and
// key_tags (migration 0021) answering tag filters exactly as the JSON check it stands in for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { listKeyPage, type KeyListing } from '../src/keys/key-listing.ts';
import { ListingSql } from '../src/keys/key-listing-sql.ts';
import { DIALECTS, TestClock, dialectSkip, type Gateway } from './support/gateway.ts';
import { call, startPricedGateway } from './support/priced.ts';

const DAY = 86_400_000;

for (const dialect of DIALECTS) {
  describe(`key listing (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const clock = new TestClock();
    before(async () => {
      gw = await startPricedGateway({ dialect, clock });
    });
    after(async () => {
      await gw.close();
    });

    const team = async (name: string): Promise<number> => (await gw.api('POST', '/api/teams', { name })).body.id;
    const key = async (teamId: number, body: Record<string, unknown>) => {
      const res = await gw.api('POST', `/api/teams/${teamId}/keys`, body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: number; key: string; key_prefix: string; name: string };
    };
    const list = async (path: string) => {
      const res = await gw.api('GET', path);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      return res.body as { data: any[]; next_cursor: string | null; next_after: number | null; spend_month: string; sort: string };
    };
    const names = async (path: string) => (await list(path)).data.map((k) => k.name);
    /** Every page of a listing, following next_cursor. */
    const walk = async (path: string) => {
      const out: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await list(cursor === null ? path : `${path}&cursor=${cursor}`);
        out.push(...page.data.map((k) => k.name));
        cursor = page.next_cursor;
      } while (cursor !== null && out.length < 100);
      return out;
    };

    test('offset pages follow the team, revoked and after filters', async () => {
      const a = await team('Listed A');
      const b = await team('Listed B');
      const keys: Record<string, number> = {};
      // the two teams' keys interleave by id
      for (let i = 0; i < 6; i++) {
        keys[`a${i}`] = (await key(a, { name: `a${i}` })).id;
        keys[`b${i}`] = (await key(b, { name: `b${i}` })).id;
      }
      for (const name of ['a1', 'a3']) assert.equal((await gw.api('DELETE', `/api/teams/${a}/keys/${keys[name]}`)).status, 200);

      assert.deepEqual(await names(`/api/teams/${a}/keys?limit=2&offset=1`), ['a2', 'a4'], 'revoked keys are not counted by the offset');
      assert.deepEqual(await names(`/api/teams/${a}/keys?limit=2&offset=3`), ['a5']);
      assert.deepEqual(await names(`/api/teams/${a}/keys?limit=2&offset=3&include_revoked=true`), ['a3', 'a4']);
      assert.deepEqual(await names(`/api/keys?team_id=${a}&limit=3&offset=2`), ['a4', 'a5']);
      assert.deepEqual(await names(`/api/teams/${a}/keys?limit=2&offset=1&after=${keys.a2}`), ['a5'], 'the offset applies after the cursor');
      assert.deepEqual(await names(`/api/keys?limit=3&offset=2&after=${keys.a2}`), ['a4', 'b4', 'a5'], 'without a team filter both teams interleave');
      assert.deepEqual(await names(`/api/teams/${a}/keys?limit=2&offset=10`), [], 'past the end is an empty page');
      const first = await list(`/api/teams/${a}/keys?limit=2`);
      assert.equal(first.next_after, keys.a2, 'next_after: the last id of a full page');
      assert.equal((await list(`/api/teams/${a}/keys?limit=2&after=${keys.a4}`)).next_after, null, 'null on the last page');
    });

    test('filters: team, owner, status, tag and text search', async () => {
      const t = await team('Filtered');
      const user = (await gw.api('POST', '/api/users', { external_id: `owner-${dialect}@example.com`, team_id: t })).body.id as number;
      const sa = (await gw.api('POST', `/api/teams/${t}/service-accounts`, { name: 'deployer' })).body.id as number;
      const k1 = await key(t, { name: 'Alpha-One', user_id: user, tags: ['prod', 'eu'] });
      await key(t, { name: 'beta', description: 'Payments: 100% of batch_job', tags: ['prod'] });
      const k3 = await key(t, { name: 'gamma', service_account_id: sa, tags: ['a,b'] });
      const k4 = await key(t, { name: 'delta' });
      const k5 = await key(t, { name: 'epsilon' });
      assert.equal((await gw.api('PATCH', `/api/teams/${t}/keys/${k4.id}`, { status: 'disabled' })).status, 200);
      assert.equal((await gw.api('DELETE', `/api/teams/${t}/keys/${k5.id}`)).status, 200);
      await key(await team('Elsewhere'), { name: 'Alpha-Two', tags: ['prod'] });
      const q = (s: string) => names(`/api/keys?team_id=${t}&${s}`);

      assert.deepEqual(await q(''), ['Alpha-One', 'beta', 'gamma', 'delta'], 'revoked keys are hidden by default');
      assert.deepEqual(await names(`/api/teams/${t}/keys?include_revoked=true`), ['Alpha-One', 'beta', 'gamma', 'delta', 'epsilon']);
      assert.deepEqual(await q('status=disabled'), ['delta']);
      assert.deepEqual(await q('status=active,revoked'), ['Alpha-One', 'beta', 'gamma', 'epsilon'], 'a comma list');
      assert.deepEqual(await q('status=revoked&status=disabled'), ['delta', 'epsilon'], 'a repeated parameter');
      assert.deepEqual(await q('status=revoked&include_revoked=false'), ['epsilon'], 'status wins over include_revoked');
      assert.deepEqual(await q(`user_id=${user}`), ['Alpha-One']);
      assert.deepEqual(await q(`service_account_id=${sa}`), ['gamma']);
      assert.deepEqual(await q('tag=prod'), ['Alpha-One', 'beta']);
      assert.deepEqual(await names('/api/keys?tag=prod&q=alpha'), ['Alpha-One', 'Alpha-Two'], 'without a team: every team of the organization');
      assert.deepEqual(await q('tag=prod&tag=eu'), ['Alpha-One'], 'several tags: keys carrying all of them');
      assert.deepEqual(await q('tag=a%2Cb'), ['gamma'], 'a tag holding a comma is one tag');
      assert.deepEqual(await q('tag=pro'), [], 'a tag matches whole, not as a substring');
      assert.deepEqual(await q('q=ALPHA'), ['Alpha-One'], 'case-insensitive, on the name');
      assert.deepEqual(await q('q=payments'), ['beta'], 'on the description');
      assert.deepEqual(await q(`q=${encodeURIComponent(k3.key_prefix.slice(0, 10))}`), ['gamma'], 'on the key prefix');
      assert.deepEqual(await q('q=a-o'), ['Alpha-One'], 'a substring anywhere');
      assert.deepEqual(await q('q=%25'), ['beta'], '% is a literal character, not a wildcard');
      assert.deepEqual(await q('q=_'), ['beta'], '_ is a literal character, not a wildcard');
      assert.deepEqual(await q('q=eta&status=active'), ['beta'], 'filters combine');
      assert.deepEqual(await names(`/api/teams/${t}/keys?tag=prod&sort=-created_at`), ['beta', 'Alpha-One'], 'the team route takes the same parameters');
      assert.deepEqual(await names(`/api/keys?team_id=${k1.id + 100000}`), [], 'an unknown team lists nothing');
    });

    test('sorts: creation, last use (never used first), expiry (never expiring last), spend this month', async () => {
      const t = await team('Sorted');
      const a = await key(t, { name: 'a', expires_at: new Date(clock.now() + 30 * DAY).toISOString() });
      await key(t, { name: 'b' });
      const c = await key(t, { name: 'c', expires_at: new Date(clock.now() + 10 * DAY).toISOString() });
      await key(t, { name: 'd' });
      // c is used first; a a minute later, twice ($6 a reply at the priced model's price)
      assert.equal(await call(gw.openai(c.key)), 200);
      clock.advance(60_000);
      assert.equal(await call(gw.openai(a.key)), 200);
      assert.equal(await call(gw.openai(a.key)), 200);
      await gw.flush();
      const q = (s: string) => names(`/api/keys?team_id=${t}&sort=${s}`);

      assert.deepEqual(await q('created_at'), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await q('-created_at'), ['d', 'c', 'b', 'a']);
      assert.deepEqual(await q('last_used_at'), ['b', 'd', 'c', 'a'], 'never used sorts as the oldest use (ties by id)');
      assert.deepEqual(await q('-last_used_at'), ['a', 'c', 'd', 'b'], 'most recent first, never used last');
      assert.deepEqual(await q('expires_at'), ['c', 'a', 'b', 'd'], 'expiring soonest first, no expiry last');
      assert.deepEqual(await q('-expires_at'), ['d', 'b', 'a', 'c']);
      assert.deepEqual(await q('-spend'), ['a', 'c', 'd', 'b'], 'top spenders first, then keys without spend (ties by id)');
      assert.deepEqual(await q('spend'), ['b', 'd', 'c', 'a']);
      assert.deepEqual(await walk(`/api/keys?team_id=${t}&sort=-spend&limit=1`), ['a', 'c', 'd', 'b'], 'one key a page, across spenders and non-spenders');
      assert.deepEqual(await walk(`/api/keys?team_id=${t}&sort=spend&limit=1`), ['b', 'd', 'c', 'a']);
      const page = await list(`/api/keys?team_id=${t}&sort=-spend`);
      assert.equal(page.spend_month, '2026-03');
      assert.deepEqual(page.data.map((k) => k.spend_this_month_usd), [12, 6, 0, 0]);
      assert.ok(page.data[0].last_used_at > page.data[1].last_used_at);

      // "This month" is the calendar month (UTC): in April nobody has spent yet. Keys without
      // spend this month follow the most recent month they spent in (by that month's spend),
      // then keys that never spent.
      clock.set('2026-04-02T00:00:00Z');
      const april = await list(`/api/keys?team_id=${t}&sort=-spend`);
      assert.equal(april.spend_month, '2026-04');
      assert.deepEqual(april.data.map((k) => [k.name, k.spend_this_month_usd]), [['a', 0], ['c', 0], ['d', 0], ['b', 0]]);
      assert.equal(await call(gw.openai(c.key)), 200);
      await gw.flush();
      assert.deepEqual((await list(`/api/keys?team_id=${t}&sort=-spend`)).data.map((k) => [k.name, k.spend_this_month_usd]), [['c', 6], ['a', 0], ['d', 0], ['b', 0]], 'a new month starts from zero');
    });

    test('cursor pages neither repeat nor skip keys created between them', async () => {
      const t = await team('Paged');
      for (let i = 1; i <= 5; i++) await key(t, { name: `k${i}` });
      const p1 = await list(`/api/keys?team_id=${t}&sort=-created_at&limit=2`);
      assert.deepEqual(p1.data.map((k) => k.name), ['k1', 'k2', 'k3', 'k4', 'k5'].reverse().slice(0, 2));
      assert.equal(p1.next_after, null, 'next_after belongs to the ascending creation order only');
      await key(t, { name: 'k6' }); // sorts before the cursor: an offset would now repeat k4
      const p2 = await list(`/api/keys?team_id=${t}&sort=-created_at&limit=2&cursor=${p1.next_cursor}`);
      assert.deepEqual(p2.data.map((k) => k.name), ['k3', 'k2']);
      const p3 = await list(`/api/keys?team_id=${t}&sort=-created_at&limit=2&cursor=${p2.next_cursor}`);
      assert.deepEqual(p3.data.map((k) => k.name), ['k1']);
      assert.equal(p3.next_cursor, null, 'the last page has no next cursor');

      // Expiry order with ties and keys without expiry, walked two by two, while keys are added
      // before and after the cursor's position.
      const at = (days: number) => new Date(clock.now() + days * DAY).toISOString();
      const s = await team('Paged by expiry');
      for (const [name, days] of [['e1', 5], ['e2', null], ['e3', 5], ['e4', 2], ['e5', null], ['e6', 9]] as const) await key(s, { name, ...(days ? { expires_at: at(days) } : {}) });
      const path = `/api/keys?team_id=${s}&sort=expires_at&limit=2`;
      assert.deepEqual(await walk(path), ['e4', 'e1', 'e3', 'e6', 'e2', 'e5']);
      const q1 = await list(path);
      assert.deepEqual(q1.data.map((k) => k.name), ['e4', 'e1']);
      await key(s, { name: 'early', expires_at: at(1) }); // before the cursor: not shown
      await key(s, { name: 'later', expires_at: at(7) }); // after it: shown in its place
      const rest: string[] = [];
      for (let c: string | null = q1.next_cursor; c !== null; ) {
        const p = await list(`${path}&cursor=${c}`);
        rest.push(...p.data.map((k) => k.name));
        c = p.next_cursor;
      }
      assert.deepEqual(rest, ['e3', 'later', 'e6', 'e2', 'e5']);
      assert.deepEqual(await walk(path), ['early', 'e4', 'e1', 'e3', 'later', 'e6', 'e2', 'e5'], 'a fresh walk sees all of them once');
    });

    test("each row names its owner: a person's name, else email, else external id; a service account's name", async () => {
      const t = await team('Owned');
      const person = async (body: Record<string, unknown>) => (await gw.api('POST', '/api/users', { team_id: t, ...body })).body.id as number;
      const named = await person({ external_id: `named-${dialect}`, name: 'Ada Lovelace', email: `ada-${dialect}@example.com` });
      const mailed = await person({ external_id: `mailed-${dialect}`, email: `grace-${dialect}@example.com` });
      const bare = await person({ external_id: `bare-${dialect}` });
      const sa = (await gw.api('POST', `/api/teams/${t}/service-accounts`, { name: 'ci-deployer' })).body.id as number;
      for (const [name, owner] of [['n', { user_id: named }], ['m', { user_id: mailed }], ['b', { user_id: bare }], ['s', { service_account_id: sa }]] as const) await key(t, { name, ...owner });
      const rows = (await list(`/api/keys?team_id=${t}`)).data.map((k) => [k.name, k.owner_name]);
      assert.deepEqual(rows, [['n', 'Ada Lovelace'], ['m', `grace-${dialect}@example.com`], ['b', `bare-${dialect}`], ['s', 'ci-deployer']]);
      assert.equal((await list(`/api/teams/${t}/keys?user_id=${named}`)).data[0].owner_name, 'Ada Lovelace', 'the team route too');
    });

    test('a search finds the same keys through the index as by reading every key', async () => {
      const t = await team('Searched');
      // Mixed case, LIKE's wildcards, quotes, FTS5 syntax, accents, a letter whose case only
      // Unicode folds (É/é: LIKE is case-insensitive for ASCII only), CJK.
      const texts: Array<[string, string | null]> = [
        ['Résumé-Builder', 'ÉCOLE normale'],
        ['pay_100%_off', `quote "here" and 'single'`],
        ['CamelCaseKey', null],
        ['naïve straße', '日本語のキー'],
        ['under_score', '50% off'],
        ['ABC', 'xyzabc'],
        ['NEAR AND OR', 'col:umn* ^start'],
      ];
      const created: Array<Awaited<ReturnType<typeof key>>> = [];
      for (const [name, description] of texts) created.push(await key(t, { name, ...(description ? { description } : {}) }));
      const db = gw.runtime.deps.db;
      const listing = (q: string): KeyListing => ({ orgId: 1, teamId: t, statuses: ['active', 'disabled'], tags: [], q, sort: { key: 'created_at', desc: false }, offset: 0, limit: 50, month: '2026-03' });
      // Step 2 (filter first: the index on SQLite) and step 1 alone (a walk of every key, LIKE).
      const indexed = async (q: string) => (await listKeyPage(db, listing(q), { probeRows: 1, maxSorted: 1000 })).keys.map((k) => k.row.name);
      const walked = async (q: string) => (await listKeyPage(db, listing(q), { probeRows: 100_000, maxSorted: 0 })).keys.map((k) => k.row.name);
      // What a substring search promises: ASCII letters in any case, anything else as written.
      const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
      const expected = (q: string) => created.filter((k, i) => fold(`${k.name}\n${k.key_prefix}\n${texts[i]![1] ?? ''}`).includes(fold(q))).map((k) => k.name);
      const queries = ['résumé', 'RÉSUMÉ', 'école', 'ÉCOLE', 'e-b', '0%_', '%_o', '_sc', '"here"', `'single'`, 'e" a', 'camelcase', 'CASEKEY', 'straße', 'STRASSE', 'ïve', '日本語', 'のキー', 'キー', 'abc', 'ab', 'near and', 'or', 'umn*', '^st', 'col:', created[2]!.key_prefix.slice(0, 12).toUpperCase(), 'zzz'];
      for (const q of queries) {
        const want = expected(q);
        assert.deepEqual(await walked(q), want, `walk: ${q}`);
        assert.deepEqual(await indexed(q), want, `index: ${q}`);
      }
      assert.deepEqual(await indexed('ÉCOLE'), ['Résumé-Builder'], 'a real match, not only agreement on nothing');
      assert.deepEqual(await indexed('abc'), ['ABC'], 'ASCII case folded: abc finds ABC (and xyzabc, the same key)');

      if (dialect !== 'sqlite') return;
      const plan = async (q: string) => {
        const frag = new ListingSql(listing(q), 'sqlite').filterFirst(1000, 51);
        return ((await sql`explain query plan ${frag}`.execute(db.kysely)).rows as Array<{ detail: string }>).map((r) => r.detail).join('; ');
      };
      assert.match(await plan('résumé'), /keys_fts/, '3 characters or more: through the trigram index');
      assert.doesNotMatch(await plan('ab'), /keys_fts/, 'under 3 characters: the LIKE alone (the index finds nothing shorter)');
    });

    test('the search index follows renames and prefix changes, never a touch of last use', { skip: dialect !== 'sqlite' }, async () => {
      const t = await team('Indexed');
      const k = await key(t, { name: 'original-name', description: 'first words' });
      const raw = (gw.runtime.deps.db.raw as { sqlite: import('better-sqlite3').Database }).sqlite;
      const found = (q: string) => (raw.prepare(`select rowid from keys_fts where keys_fts match ?`).all(`"${q}"`) as Array<{ rowid: number }>).map((r) => r.rowid);
      // The index's own storage: any write to it (the update trigger firing) adds a segment.
      const fingerprint = () => raw.prepare(`select count(*) as n, max(id) as top, sum(length(block)) as bytes from keys_fts_data`).get();
      const before = fingerprint();
      // What the log writer runs after each request (usage/log-sinks.ts).
      raw.prepare('update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)').run('2026-03-02T00:00:00.000Z', k.id, '2026-03-02T00:00:00.000Z');
      assert.deepEqual(fingerprint(), before, 'an update of last_used_at leaves the index alone');

      assert.equal((await gw.api('PATCH', `/api/teams/${t}/keys/${k.id}`, { name: 'renamed-key', description: 'second words' })).status, 200);
      assert.notDeepEqual(fingerprint(), before, 'a rename rewrites the index');
      assert.deepEqual(found('renamed'), [k.id]);
      assert.deepEqual(found('original'), [], 'the old name is forgotten');
      assert.deepEqual(found('second w'), [k.id]);
      assert.deepEqual(found('first'), []);
      raw.prepare('update api_keys set key_prefix = ? where id = ?').run('tg-newprefix', k.id);
      assert.deepEqual(found('newprefix'), [k.id], 'a new prefix (a rotation) is found');
      assert.deepEqual(found(k.key_prefix.slice(0, 12)), [], 'the old prefix is not');
      assert.deepEqual(await names(`/api/keys?team_id=${t}&q=RENAMED`), ['renamed-key']);
      // The external-content index matches its table exactly.
      raw.prepare(`insert into keys_fts (keys_fts) values ('integrity-check')`).run();
    });

    test("a tag filter finds the same keys through key_tags as by reading each key's tags", async () => {
      const t = await team('Tagged');
      const db = gw.runtime.deps.db;
      const person = (await gw.api('POST', '/api/users', { team_id: t, external_id: `tagger-${dialect}` })).body.id as number;
      // Mixed case, composed and decomposed accents (different strings), CJK, an emoji, a comma,
      // several tags per key, none at all.
      const made: Array<[string, string[], Record<string, unknown>?]> = [
        ['upper', ['PCI', 'prod']],
        ['lower', ['pci', 'prod', 'eu']],
        ['title', ['Pci']],
        ['nfc', ['café', '日本', 'pci']],
        ['nfd', ['cafe\u0301', '🔒']],
        ['comma', ['a,b', 'prod'], { user_id: person }],
        ['bare', []],
        ['renamed', ['old-tag', 'pci']],
        ['deleted', ['gone', 'pci']],
        ['numbers', ['n']],
      ];
      const ids = new Map<string, number>();
      for (const [name, tags, extra] of made) ids.set(name, (await key(t, { name, tags, ...extra })).id);
      // A rename of tags, a key deleted outright, and JSON elements that are not strings (written
      // by hand: the API accepts strings only; json_each's check never matched them to a string).
      assert.equal((await gw.api('PATCH', `/api/teams/${t}/keys/${ids.get('renamed')}`, { tags: ['new-tag', 'PCI'] })).status, 200);
      await sql`delete from api_keys where id = ${ids.get('deleted')!}`.execute(db.kysely);
      await sql`update api_keys set tags = '["n", 5, null, true, ["nested"], "n"]' where id = ${ids.get('numbers')!}`.execute(db.kysely);
      assert.equal(await call(gw.openai((await key(t, { name: 'spender', tags: ['pci', 'prod'] })).key)), 200);
      await gw.flush();
      // Every key of the team, cursor page after cursor page of 2 (one more tells of a next page).
      const all = async (l: Partial<KeyListing>, steps: { probeRows: number; maxSorted: number }) => {
        const got: string[] = [];
        let after: KeyListing['after'];
        for (let i = 0; i < 20; i++) {
          const page = await listKeyPage(db, { orgId: 1, teamId: t, statuses: ['active', 'disabled'], tags: [], sort: { key: 'created_at', desc: false }, offset: 0, limit: 2, month: new Date(clock.now()).toISOString().slice(0, 7), ...l, after }, steps);
          got.push(...page.keys.map((k) => k.row.name));
          if (!page.next) return got;
          after = page.next;
        }
        throw new Error('more pages than keys');
      };
      // Step 2 (filter first: key_tags on SQLite) and step 1 alone (a walk checking each key's JSON).
      const indexed = (l: Partial<KeyListing>) => all(l, { probeRows: 1, maxSorted: 1000 });
      const walked = (l: Partial<KeyListing>) => all(l, { probeRows: 100_000, maxSorted: 0 });
      const tagSets = [['pci'], ['PCI'], ['Pci'], ['café'], ['cafe\u0301'], ['日本'], ['🔒'], ['a,b'], ['prod', 'eu'], ['eu', 'prod'], ['pci', 'prod'], ['pci', 'pci'], ['n'], ['5'], ['nested'], ['old-tag'], ['new-tag'], ['gone'], ['pro'], ['nothing']];
      const sorts: KeyListing['sort'][] = [{ key: 'created_at', desc: false }, { key: 'created_at', desc: true }, { key: 'last_used_at', desc: true }, { key: 'spend', desc: true }, { key: 'expires_at', desc: false }];
      for (const tags of tagSets) {
        for (const sort of sorts) {
          const l = { tags, sort };
          assert.deepEqual(await indexed(l), await walked(l), `tags ${JSON.stringify(tags)}, sort ${JSON.stringify(sort)}`);
        }
        for (const l of [{ tags, q: 'e' }, { tags, q: 'ame' }, { tags, userId: person }, { tags, statuses: ['active' as const] }])
          assert.deepEqual(await indexed(l), await walked(l), `${JSON.stringify(l)}`);
      }
      // Real matches, not only agreement on nothing.
      assert.deepEqual(await indexed({ tags: ['pci'] }), ['lower', 'nfc', 'spender']);
      assert.deepEqual(await indexed({ tags: ['PCI'] }), ['upper', 'renamed'], 'case kept; the renamed key by its new tags');
      assert.deepEqual(await indexed({ tags: ['cafe\u0301'] }), ['nfd'], 'decomposed é is its own tag');
      assert.deepEqual(await indexed({ tags: ['pci', 'prod'] }), ['lower', 'spender'], 'several tags: keys carrying all of them');
      assert.deepEqual(await indexed({ tags: ['prod'], sort: { key: 'spend', desc: true } }), ['spender', 'comma', 'lower', 'upper'], 'the spender first, then ties by id, descending');
      assert.deepEqual(await indexed({ tags: ['n'] }), ['numbers']);
      assert.deepEqual(await indexed({ tags: ['old-tag'] }), [], 'a renamed tag is forgotten');
      assert.deepEqual(await indexed({ tags: ['gone'] }), [], 'a deleted key is forgotten');
      assert.deepEqual(await names(`/api/teams/${t}/keys?tag=PCI&sort=-created_at`), ['renamed', 'upper'], 'through the API');

      if (dialect !== 'sqlite') return;
      // key_tags holds exactly each key's string tags.
      const rows = async (q: ReturnType<typeof sql>) => ((await q.execute(db.kysely)).rows as Array<{ tag: string; key_id: number }>).map((r) => `${r.key_id} ${r.tag}`);
      assert.deepEqual(
        await rows(sql`select tag, key_id from key_tags order by key_id, tag`),
        await rows(sql`select distinct j.value as tag, k.id as key_id from api_keys k, json_each(k.tags) j where j.type = 'text' order by k.id, j.value`),
      );
      const plan = async (l: KeyListing, frag: (s: ListingSql) => ReturnType<ListingSql['probe']>) =>
        ((await sql`explain query plan ${frag(new ListingSql(l, 'sqlite'))}`.execute(db.kysely)).rows as Array<{ detail: string }>).map((r) => r.detail).join('; ');
      const base: KeyListing = { orgId: 1, statuses: ['active', 'disabled'], tags: ['pci'], sort: { key: 'created_at', desc: true }, offset: 0, limit: 50, month: '2026-03' };
      for (const l of [base, { ...base, tags: ['pci', 'prod'] }, { ...base, sort: { key: 'last_used_at', desc: true } as const }, { ...base, teamId: t, q: 'ame' }]) {
        const p = await plan(l, (s) => s.filterFirst(1000, 51));
        assert.match(p, /SEARCH t0 USING PRIMARY KEY \(tag=\?\)/, `filter first through key_tags: ${p}`);
        // by its id: the primary key, or an (org_id | team_id, id, …) index seeking to (…=? AND id=?)
        assert.match(p, /SEARCH k USING [^;]*\b(rowid|id)=\?\)/, `each match's key by id: ${p}`);
        assert.doesNotMatch(p, /SCAN k\b/, p);
        assert.doesNotMatch(p, /json_each/, p);
      }
      assert.doesNotMatch(await plan(base, (s) => s.probe(1000)), /key_tags/, 'the probe checks the rows it walks by their JSON');
    });

    test("key_tags follows a key's tags, never a touch of last use", { skip: dialect !== 'sqlite' }, async () => {
      const t = await team('Tag writes');
      const k = await key(t, { name: 'touched', tags: ['one', 'two'] });
      const raw = (gw.runtime.deps.db.raw as { sqlite: import('better-sqlite3').Database }).sqlite;
      const tagsOf = () => (raw.prepare('select tag from key_tags where key_id = ? order by tag').all(k.id) as Array<{ tag: string }>).map((r) => r.tag);
      // total_changes() counts the rows triggers write too: the update's own row, and nothing else.
      const changes = () => (raw.prepare('select total_changes() as n').get() as { n: number }).n;
      const before = changes();
      // What the log writer runs after each request (usage/log-sinks.ts).
      raw.prepare('update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)').run('2026-03-02T00:00:00.000Z', k.id, '2026-03-02T00:00:00.000Z');
      assert.equal(changes() - before, 1, 'an update of last_used_at writes no key_tags row');
      assert.deepEqual(tagsOf(), ['one', 'two']);
      assert.equal((await gw.api('PATCH', `/api/teams/${t}/keys/${k.id}`, { tags: ['two', 'three'] })).status, 200);
      assert.deepEqual(tagsOf(), ['three', 'two']);
      raw.prepare('delete from api_keys where id = ?').run(k.id);
      assert.deepEqual(tagsOf(), []);
    });

    test('a value the listing cannot honour is a 400 naming the parameter', async () => {
      const t = await team('Refusals');
      await key(t, { name: 'only' });
      const cursor = (await list(`/api/keys?team_id=${t}&sort=-created_at&limit=1`)).next_cursor;
      const cases: Array<[string, string]> = [
        ['sort=name', 'query.sort'],
        ['sort=created_at&sort=-created_at', 'query.sort'],
        ['status=expired', 'query.status'],
        ['status=active,', 'query.status'],
        ['include_revoked=yes', 'query.include_revoked'],
        ['tag=', 'query.tag'],
        [`tag=${'x'.repeat(101)}`, 'query.tag'],
        ['q=', 'query.q'],
        ['q=a%0Ab', 'query.q'],
        [`q=${'x'.repeat(201)}`, 'query.q'],
        ['user_id=0', 'query.user_id'],
        ['service_account_id=abc', 'query.service_account_id'],
        ['limit=1001', 'query.limit'],
        ['cursor=not-a-cursor!', 'query.cursor'],
        [`cursor=${Buffer.from('[1,2,3]').toString('base64url')}`, 'query.cursor'],
        [`cursor=${Buffer.from('["-created_at",null,0]').toString('base64url')}`, 'query.cursor'],
        [`sort=expires_at&cursor=${cursor}`, 'query.cursor'],
        [`sort=-created_at&cursor=${cursor}&after=1`, 'query.after'],
        ['sort=-created_at&after=1', 'query.after'],
        ['owner=user:1', 'query.owner'],
      ];
      for (const [qs, param] of cases) {
        const res = await gw.api('GET', `/api/keys?${qs}`);
        assert.equal(res.status, 400, `${qs}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'invalid_request', qs);
        assert.equal(res.body.error.param, param, `${qs}: ${res.body.error.message}`);
      }
      assert.equal((await gw.api('GET', `/api/teams/${t}/keys?sort=bogus`)).body.error.param, 'query.sort');
    });
  });
}
