// docs/people.md's permission table and route list are generated (npm run docs:permissions) from
// src/auth/permissions.ts and the app's route table; this test fails while they differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedPeopleDoc } from '../scripts/permissions-doc.ts';
import { permissionTable, renderPeopleDoc, routeList, spliceBlock } from '../src/auth/permissions-doc.ts';
import { PERMISSIONS } from '../src/auth/permissions.ts';

const block = (doc: string, name: string) => doc.slice(doc.indexOf(`<!-- ${name}:start -->`), doc.indexOf(`<!-- ${name}:end -->`));

test('docs/people.md shows the permission table and the route list the code has', async () => {
  const { current, expected } = await expectedPeopleDoc();
  const hint = 'docs/people.md is out of date: run `npm run docs:permissions`';
  assert.equal(block(current, 'permissions:table'), block(expected, 'permissions:table'), hint);
  assert.equal(block(current, 'permissions:routes'), block(expected, 'permissions:routes'), hint);
  assert.equal(current, expected, hint);
  // Every /api route is listed with an action (or as public).
  assert.doesNotMatch(block(current, 'permissions:routes'), /\(none\)/);
});

test('the table has one row per action, each cell what decide() answers', () => {
  const rows = permissionTable().split('\n').slice(2);
  assert.equal(rows.length, Object.keys(PERMISSIONS).length);
  const cells = (action: string) => rows.find((r) => r.startsWith(`| \`${action}\` |`))!.split('|').slice(2, -1).map((c) => c.trim());
  // Master key, org admin, viewer, member, team member, team owner, own object.
  assert.deepEqual(cells('org.create'), ['✓', '—', '—', '—', '—', '—', '—']);
  assert.deepEqual(cells('team.logs.read'), ['✓', '✓', '✓', '—', '—', '✓', '—']);
  assert.deepEqual(cells('key.rotate'), ['✓', '✓', '—', '—', '—', '✓', '✓']);
  assert.deepEqual(cells('key.create_self'), ['✓', '✓', '—', '—', '✓', '✓', '—']);
  assert.deepEqual(cells('org.read'), ['✓', '✓', '✓', '✓', '✓', '✓', '✓']);
});

test('a stale block is replaced; a document without the markers is refused', () => {
  const routes = [{ method: 'GET', url: '/api/teams', action: 'team.list' }, { method: 'POST', url: '/api/auth/login', public: true }, { method: 'GET', url: '/healthz' }];
  const stale = 'intro\n<!-- permissions:table:start -->\nold\n<!-- permissions:table:end -->\nmid\n<!-- permissions:routes:start -->\n<!-- permissions:routes:end -->\nend\n';
  const fresh = renderPeopleDoc(stale, routes);
  assert.ok(!fresh.includes('\nold\n'));
  assert.ok(fresh.startsWith('intro\n') && fresh.endsWith('end\n') && fresh.includes('\nmid\n'));
  assert.equal(renderPeopleDoc(fresh, routes), fresh, 'regenerating is a no-op');
  assert.equal(routeList(routes).split('\n').length, 4, 'only /api routes');
  assert.match(routeList(routes), /`POST \/api\/auth\/login` \| public/);
  assert.throws(() => spliceBlock('no markers here', 'permissions:table', 'x'), /no <!-- permissions:table:start -->/);
});
