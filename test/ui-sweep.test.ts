// Every page of the dashboard, swept the same way, against a Tollgate holding a believable
// organization (test/support/ui-seed.ts): as an admin (every page, and every tab of it) and as a
// member (the pages a member has), axe-core finds no serious or critical violation, nothing goes
// wrong in the console (script errors, CSP refusals), every /ui answer carries the security
// headers, a phone-width page never scrolls sideways and its menu button opens the navigation,
// and the sidebar is there at 1280 px. Also how the app answers paths: an unknown asset is a 404,
// any other /ui path is the app, and a stale session lands on sign-in and comes back to where the
// person was going.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Response } from 'playwright-core';
import { SESSION_COOKIE } from '../src/auth/sessions.ts';
import type { Gateway } from './support/gateway.ts';
import { axeViolations, browserSkip, launchBrowser, navigate, openUi, PHONE, settle, signInUi, uiHeaderProblems, visit, type UiPage } from './support/browser.ts';
import { seedOrganization, startSeededGateway, type Seeded } from './support/ui-seed.ts';

interface Target { name: string; path: (s: Seeded) => string }

const ADMIN_PAGES: Target[] = [
  { name: 'overview', path: () => '/ui' },
  { name: 'keys', path: () => '/ui/keys' },
  { name: 'a key', path: (s) => `/ui/keys/${s.keys['answer-box-prod']!.id}` },
  { name: 'teams', path: () => '/ui/teams' },
  { name: 'a team', path: (s) => `/ui/teams/${s.teams['search']!.id}` },
  { name: 'spend', path: () => '/ui/spend' },
  { name: 'logs', path: () => '/ui/logs' },
  { name: 'people', path: () => '/ui/people' },
  { name: 'access groups', path: () => '/ui/access-groups' },
  { name: 'providers', path: () => '/ui/providers' },
  { name: 'routes', path: () => '/ui/routes' },
  { name: 'prices', path: () => '/ui/prices' },
  { name: 'provisioned keys', path: () => '/ui/provisioned-keys' },
  { name: 'management keys', path: () => '/ui/management-keys' },
  { name: 'audit', path: () => '/ui/audit' },
  { name: 'settings', path: () => '/ui/settings' },
];

const MEMBER_PAGES: Target[] = [
  { name: 'overview', path: () => '/ui' },
  { name: 'keys', path: () => '/ui/keys' },
  { name: 'own key', path: (s) => `/ui/keys/${s.keys['mia-notebook']!.id}` },
  { name: 'teams', path: () => '/ui/teams' },
  { name: 'own team', path: (s) => `/ui/teams/${s.teams['search']!.id}` },
  { name: 'spend', path: () => '/ui/spend' },
  { name: 'logs', path: () => '/ui/logs' },
  { name: 'provisioned keys', path: () => '/ui/provisioned-keys' },
];

/**
 * The document's width and the first elements sticking out past the viewport (those inside a
 * table's own scrolling box do not count). A string: tests compile without the DOM's types.
 */
const MEASURE_WIDTH = `(() => {
  const limit = document.documentElement.clientWidth;
  const offenders = [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > limit + 1 && !e.closest('.table-wrap'))
    .slice(0, 3)
    .map((e) => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).trim().split(/\\s+/).join('.') : ''));
  return { scroll: document.documentElement.scrollWidth, offenders };
})()`;

/** Records the security-header problems of every /ui answer the context receives. */
function watchHeaders(ui: UiPage, gw: Gateway): string[] {
  const found: string[] = [];
  ui.page.on('response', (res: Response) => {
    const url = res.url();
    if (!url.startsWith(gw.url + '/ui')) return;
    found.push(...uiHeaderProblems(url.slice(gw.url.length), res.headers()));
  });
  return found;
}

/** What a page must be, whoever looks at it: accessible, quiet, with the headers. */
async function sweep(ui: UiPage, headerProblems: string[], path: string, how: 'load' | 'navigate' = 'navigate'): Promise<void> {
  const seenProblems = ui.problems.length;
  await (how === 'load' ? visit(ui.page, path) : navigate(ui.page, path));
  const violations = await axeViolations(ui.page);
  assert.deepEqual(violations, [], `${path}: axe found ${violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(' ')}`).join('; ')}`);
  assert.deepEqual(ui.problems.slice(seenProblems), [], `${path}: console errors or CSP refusals`);
  assert.deepEqual(headerProblems, [], `${path}: security headers`);
  assert.ok(!(await ui.page.getByText('undefined', { exact: true }).count()), `${path}: shows "undefined"`);
}

/** Each other tab of the page (a team's members, keys, limits, …), checked by axe as it opens. */
async function sweepTabs(ui: UiPage, path: string): Promise<void> {
  const tabs = ui.page.getByRole('tab', { selected: false });
  const names = await tabs.allInnerTexts();
  for (const name of names) {
    await ui.page.getByRole('tab', { name, exact: true }).click();
    await settle(ui.page);
    const violations = await axeViolations(ui.page);
    assert.deepEqual(violations, [], `${path}, tab ${name}: axe found ${violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(' ')}`).join('; ')}`);
  }
  assert.deepEqual(ui.problems, [], `${path}: console errors or CSP refusals`);
}

describe('every page of the dashboard', { skip: browserSkip() }, () => {
  let browser: Browser;
  let gw: Gateway;
  let seeded: Seeded;
  before(async () => {
    const started = await startSeededGateway();
    gw = started.gw;
    // two weeks of requests: full tables and charts, written in a couple of seconds
    [browser, seeded] = await Promise.all([launchBrowser(), seedOrganization(gw, started.clock, { historyDays: 14 })]);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  describe('as an admin at 1280 px', () => {
    let ui: UiPage;
    let headers: string[];
    before(async () => {
      ui = await openUi(browser, gw);
      headers = watchHeaders(ui, gw);
      await signInUi(ui, seeded.admin, seeded.password, '/ui');
    });
    after(() => ui?.context.close());

    for (const target of ADMIN_PAGES) {
      test(target.name, async () => {
        await sweep(ui, headers, target.path(seeded));
        await sweepTabs(ui, target.path(seeded));
        assert.ok(await ui.page.getByRole('navigation', { name: 'Main' }).isVisible(), 'the sidebar is visible at 1280 px');
        assert.equal(await ui.page.getByRole('button', { name: 'Menu' }).isVisible(), false, 'no menu button at 1280 px');
      });
    }
  });

  describe('as a member at 1280 px', () => {
    let ui: UiPage;
    let headers: string[];
    before(async () => {
      ui = await openUi(browser, gw);
      headers = watchHeaders(ui, gw);
      await signInUi(ui, seeded.member, seeded.password, '/ui');
    });
    after(() => ui?.context.close());

    for (const target of MEMBER_PAGES) test(target.name, () => sweep(ui, headers, target.path(seeded)));
  });

  describe('as an admin on a phone (390 px)', () => {
    let ui: UiPage;
    before(async () => {
      ui = await openUi(browser, gw, { viewport: PHONE });
      await signInUi(ui, seeded.admin, seeded.password, '/ui');
    });
    after(() => ui?.context.close());

    test('no page scrolls sideways, and the menu button opens the navigation', async () => {
      const wide: string[] = [];
      for (const target of ADMIN_PAGES) {
        const path = target.path(seeded);
        await navigate(ui.page, path);
        const { scroll, offenders } = await ui.page.evaluate<{ scroll: number; offenders: string[] }>(MEASURE_WIDTH);
        if (scroll > PHONE.width + 1) wide.push(`${path}: ${scroll}px wide (${offenders.join(', ')})`);
        const nav = ui.page.getByRole('navigation', { name: 'Main' });
        assert.equal(await nav.getByRole('link', { name: 'Keys', exact: true }).isVisible(), false, `${path}: the navigation is folded away on a phone`);
        await ui.page.getByRole('button', { name: 'Menu' }).click();
        await nav.getByRole('link', { name: 'Keys', exact: true }).waitFor({ state: 'visible' });
        await ui.page.getByRole('button', { name: 'Menu' }).click();
      }
      assert.deepEqual(wide, [], 'pages wider than the phone');
      assert.deepEqual(ui.problems, []);
    });
  });

  describe('signing in and public pages', () => {
    let ui: UiPage;
    let headers: string[];
    before(async () => {
      ui = await openUi(browser, gw);
      headers = watchHeaders(ui, gw);
    });
    after(() => ui?.context.close());

    test('sign-in page', async () => {
      await sweep(ui, headers, '/ui/sign-in', 'load');
      assert.ok(await ui.page.getByRole('button', { name: 'Sign in', exact: true }).isVisible());
    });

    test('invitation acceptance page', async () => {
      const inv = await gw.api('POST', '/api/invitations', { email: 'new.hire@example.com', role: 'member', team_id: seeded.teams['mobile']!.id, team_role: 'member' });
      assert.equal(inv.status, 201);
      await sweep(ui, headers, `/ui/invitations/${inv.body.token}`, 'load');
      assert.ok(await ui.page.getByLabel('Password').isVisible());
    });

    test('an old or unknown session lands on sign-in with ?next=, and comes back there after signing in', async () => {
      const host = new URL(gw.url).hostname;
      await ui.context.addCookies([{ name: SESSION_COOKIE, value: 'a-session-that-ended-long-ago', domain: host, path: '/' }]);
      const target = `/ui/teams/${seeded.teams['research']!.id}`;
      await ui.page.goto(target);
      await ui.page.waitForURL((u) => u.pathname === '/ui/sign-in');
      assert.equal(new URL(ui.page.url()).searchParams.get('next'), target);
      await ui.page.getByLabel('Email').fill(seeded.admin);
      await ui.page.getByLabel('Password').fill(seeded.password);
      await ui.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await ui.page.waitForURL((u) => u.pathname === target);
      await settle(ui.page);
      await ui.page.getByRole('navigation', { name: 'Main' }).waitFor({ state: 'attached' });
      assert.deepEqual(ui.problems, []);
    });

    test('/ui/assets/<unknown> is a 404; any other /ui path is the app', async () => {
      const missing = await ui.page.request.get('/ui/assets/main-DOESNOTEXIST.js');
      assert.equal(missing.status(), 404);
      assert.deepEqual(uiHeaderProblems('/ui/assets/main-DOESNOTEXIST.js', missing.headers()), []);
      const deep = await ui.page.request.get('/ui/some/page/that/is/not/there?x=1');
      assert.equal(deep.status(), 200);
      assert.match(await deep.text(), /<script type="module" src="\/ui\/assets\/main-/);
      await ui.page.goto('/ui/some/page/that/is/not/there');
      await ui.page.getByRole('heading', { level: 1 }).waitFor();
      assert.deepEqual(headers, []);
    });
  });
});
