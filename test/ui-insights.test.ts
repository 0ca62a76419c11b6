// The dashboard's insights pages in a real browser (issue 12): the Overview (/ui) and the Spend
// explorer (/ui/spend), against a Tollgate that served real requests through the official openai
// SDK — two teams, three keys, two models. What a person would check: the overview's "spend today"
// is the API's number, the chart is drawn, both teams are in the top list; the explorer by model
// lists both models whose costs add up to the total, and its CSV export holds the table's rows; a
// member sees what is left of their allocation and only their own usage; the top lists and charts
// are ranked by the API (order=…), never read from every group; nothing goes wrong in
// the console, axe finds no serious violation, a phone-width overview never scrolls sideways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { axeViolations, browserSkip, launchBrowser, openUi, PASSWORD, PHONE, seedPeople, settle, signInUi, visit, type People, type UiPage } from './support/browser.ts';
import type { Gateway } from './support/gateway.ts';
import { userWithPassword } from './support/people.ts';
import { call, CREDITS_MODEL, startPricedGateway } from './support/priced.ts';

const usdFmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const usdSmall = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
/** as the dashboard writes money (ui/src/components/format.ts) */
const usd = (v: number) => (Math.abs(v) < 1 && v !== 0 ? usdSmall.format(v) : usdFmt.format(v));
const money = (text: string) => Number(text.replace(/[$,]/g, ''));
const MINI = 'gpt-4o-mini';

describe('insights: overview and spend explorer (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  let admin: UiPage;
  const keys: Record<string, { id: number; key: string }> = {};

  before(async () => {
    [gw, browser] = await Promise.all([startPricedGateway(), launchBrowser()]);
    people = await seedPeople(gw);
    const users = (await gw.api('GET', '/api/users?limit=100')).body.data as Array<{ id: number; email: string }>;
    const idOf = (email: string) => users.find((u) => u.email === email)!.id;
    // The member's monthly allocation in Search, set before they spend (seed 003).
    const alloc = await gw.api('PUT', `/api/teams/${people.teamId}/members/${idOf(people.member)}`, { allocation_usd: 50 });
    assert.equal(alloc.status, 200, JSON.stringify(alloc.body));
    for (const [name, teamId, owner] of [['mia-notebook', people.teamId, people.member], ['max-batch', people.teamId, people.other], ['payments-backend', people.otherTeamId, people.admin]] as const) {
      const k = await gw.api('POST', `/api/teams/${teamId}/keys`, { name, user_id: idOf(owner) });
      assert.equal(k.status, 201, JSON.stringify(k.body));
      keys[name] = { id: k.body.id, key: k.body.key };
    }
    // gpt-credits costs $6 a request; gpt-4o-mini a fraction of a cent.
    const traffic: Array<[string, string]> = [['mia-notebook', CREDITS_MODEL], ['mia-notebook', CREDITS_MODEL], ['mia-notebook', MINI], ['max-batch', CREDITS_MODEL], ['payments-backend', CREDITS_MODEL], ['payments-backend', MINI], ['payments-backend', MINI]];
    for (const [key, model] of traffic) assert.equal(await call(gw.openai(keys[key]!.key), model), 200);
    await gw.flush();
    admin = await openUi(browser, gw);
    await signInUi(admin, people.admin, PASSWORD, '/ui');
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('overview: spend today is the API\'s, the chart is drawn, both teams lead the top list', async () => {
    const { page } = admin;
    await visit(page, '/ui');
    const org = (await gw.api('GET', '/api/orgs/current/spend')).body;
    assert.ok(org.today.cost_usd > 18, 'the traffic cost something today');
    const stat = page.getByText('Spend today', { exact: true }).locator('..');
    assert.match(await stat.innerText(), new RegExp(usd(org.today.cost_usd).replace(/[$.]/g, '\\$&')));
    assert.match(await page.getByText('Requests this month', { exact: true }).locator('..').innerText(), /\b7\b/);

    const chart = page.getByRole('img', { name: /Spend per day by team, last 30 days/ });
    await chart.locator('canvas').first().waitFor();
    const inked = await chart.locator('canvas').first().evaluate((c: { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null }) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return { width: c.width, painted: n };
    });
    assert.ok(inked.width > 300 && inked.painted > 500, `the chart is drawn: ${JSON.stringify(inked)}`);

    const topTeams = page.locator('section', { has: page.getByRole('heading', { name: /Top teams/ }) });
    await assert.doesNotReject(topTeams.getByRole('link', { name: 'Search' }).waitFor());
    assert.equal(await topTeams.getByRole('link', { name: 'Payments' }).getAttribute('href'), `/ui/teams/${people.otherTeamId}`);
    const topModels = page.locator('section', { has: page.getByRole('heading', { name: /Top models/ }) });
    assert.deepEqual(await topModels.getByRole('link').allInnerTexts(), [CREDITS_MODEL, MINI], 'largest first');
    const topKeys = page.locator('section', { has: page.getByRole('heading', { name: /Top keys/ }) });
    assert.equal(await topKeys.getByRole('link', { name: 'mia-notebook' }).getAttribute('href'), `/ui/keys/${keys['mia-notebook']!.id}`);
    assert.deepEqual(admin.problems, []);
    assert.deepEqual(await axeViolations(page), []);
  });

  test('spend explorer by model: both models, costs adding up to the total, the URL keeps the view, the CSV holds the table\'s rows', async () => {
    const { page } = admin;
    await visit(page, '/ui/spend');
    await page.getByLabel('Group by').selectOption('model');
    await page.waitForURL(/\/ui\/spend\?group=model$/);
    await settle(page);
    const table = page.getByRole('table', { name: 'Spend by model' });
    // textContent: the headers are upper-cased by CSS, which innerText would apply
    const header = (await table.getByRole('columnheader').allTextContents()).map((t) => t.trim());
    const cost = header.indexOf('Cost');
    // cells of each row; a group's cell ends with its "filter" link
    const lines = await table.locator('tbody tr').allInnerTexts().then((trs) => trs.map((tr) => tr.split('\t').map((c) => c.trim().replace(/\s*filter$/, ''))));
    const total = lines.find((l) => l[0] === 'Total')!;
    const rows = lines.filter((l) => l[0] !== 'Total');
    assert.deepEqual(rows.map((l) => l[0]), [CREDITS_MODEL, MINI], 'largest first');
    const api = (await gw.api('GET', '/api/usage?group_by=model')).body;
    assert.equal(total[cost], usd(api.totals.cost_usd));
    const sum = rows.reduce((n, l) => n + money(l[cost]!), 0);
    assert.ok(Math.abs(sum - money(total[cost]!)) < 0.0002, `the rows add up to the total: ${sum} vs ${total[cost]}`);
    assert.equal(rows[0]![header.indexOf('Requests')], '4');

    // A reload shows the same view (it lives in the URL).
    await page.reload();
    await settle(page);
    assert.equal(await page.getByLabel('Group by').inputValue(), 'model');

    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.match(href!, /^\/api\/usage\?.*group_by=model.*format=csv/);
    const csv = await page.request.get(href!);
    assert.equal(csv.status(), 200);
    const [head, ...body] = (await csv.text()).trim().split('\r\n');
    const cols = head!.split(',');
    const fromCsv = body.map((l) => l.split(',')).map((c) => [c[cols.indexOf('model')], usd(Number(c[cols.indexOf('cost_usd')])), c[cols.indexOf('requests')]]);
    const fromTable = rows.map((l) => [l[0], l[cost], l[header.indexOf('Requests')]]);
    assert.deepEqual(fromCsv.sort(), fromTable.sort());
    assert.deepEqual(admin.problems, []);
    assert.deepEqual(await axeViolations(page), []);

    // Narrowed to one model (a row's filter link): the keys that used it, and the URL says so.
    await page.getByRole('link', { name: `filter to ${MINI}` }).click();
    await page.waitForURL((u) => u.searchParams.get('model') === MINI && u.searchParams.get('group') === 'key');
    await settle(page);
    const byKey = page.getByRole('table', { name: 'Spend by key' });
    const names = (await byKey.locator('tbody tr td:first-child a:first-child').allInnerTexts()).sort();
    assert.deepEqual(names, ['mia-notebook', 'payments-backend']);
    assert.equal(await page.getByLabel('Model').inputValue(), MINI);
    const mini = (await gw.api('GET', `/api/usage?model=${MINI}`)).body.totals;
    assert.match(await byKey.getByRole('row', { name: /^Total/ }).innerText(), new RegExp(`\\b${mini.requests}\\b[\\s\\S]*${usd(mini.cost_usd).replace(/[$.]/g, '\\$&')}`));
    assert.deepEqual(admin.problems, []);
  });

  test('the top lists and the charts are ranked by the API (order=…): a few rows each, never every group of a dimension', async () => {
    const { page } = admin;
    const asked: Array<Record<string, string>> = [];
    const listen = (r: { url(): string }) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/usage') asked.push(Object.fromEntries(u.searchParams));
    };
    page.on('request', listen);
    try {
      await visit(page, '/ui');
      await page.getByRole('img', { name: /Spend per day by team/ }).waitFor();
      await visit(page, '/ui/spend?group=key');
      // The explorer's default range is this month: on the 1st that is one day, charted per hour.
      await page.getByRole('img', { name: /cost per (day|hour) by key/ }).waitFor();
    } finally {
      page.off('request', listen);
    }
    for (const group of ['team', 'model', 'key']) {
      assert.ok(asked.some((q) => q.group_by === group && q.order === 'cost' && Number(q.limit) <= 7), `the top ${group}s are asked for ranked: ${JSON.stringify(asked)}`);
    }
    // Groupings by a dimension without a ranking are the explorer's paged table (500 a page), nothing larger.
    const unranked = asked.filter((q) => !q.order && /team|key|user|model|provider/.test(q.group_by ?? ''));
    assert.deepEqual(unranked.filter((q) => !(Number(q.limit) <= 500)), [], 'no reading of every group');
    // The explorer's chart by key: one series per key (three), adding up to the selection's total.
    const total = (await gw.api('GET', '/api/usage?group_by=key')).body.totals.cost_usd as number;
    const chart = page.getByRole('img', { name: /cost per (day|hour) by key/ });
    assert.match((await chart.getAttribute('aria-label'))!, new RegExp(`: 3 series over \\d+ points, total ${usd(total).replace(/[$.]/g, '\\$&')}$`));
    assert.deepEqual(admin.problems, []);
  });

  test('someone whose scope has no traffic sees "No requests yet" and how to make one, not empty charts', async () => {
    await userWithPassword(gw, 'nia@example.com', PASSWORD);
    const ui = await openUi(browser, gw);
    try {
      await signInUi(ui, 'nia@example.com', PASSWORD, '/ui');
      await settle(ui.page);
      await ui.page.getByText('No requests yet').waitFor();
      assert.equal(await ui.page.getByRole('link', { name: 'Keys page' }).getAttribute('href'), '/ui/keys');
      assert.equal(await ui.page.getByRole('heading', { name: /Top keys/ }).count(), 0);
      assert.match(await ui.page.getByText('Spend today', { exact: true }).locator('..').innerText(), /\$0\.00/);
      assert.deepEqual(ui.problems, []);
    } finally {
      await ui.context.close();
    }
  });

  test('a member sees "My allocation" with what is left, and only their own usage; the phone-width overview does not scroll sideways', async () => {
    const ui = await openUi(browser, gw, { viewport: PHONE });
    try {
      await signInUi(ui, people.member, PASSWORD, '/ui');
      await settle(ui.page);
      // What the member spent in Search: their own key, per the API.
      const mine = (await gw.api('GET', `/api/usage?group_by=key&key_id=${keys['mia-notebook']!.id}`)).body.totals.cost_usd as number;
      assert.ok(mine > 12);
      const allocation = ui.page.locator('section', { has: ui.page.getByRole('heading', { name: /My allocation/ }) });
      assert.match(await allocation.innerText(), new RegExp(`${usd(50 - mine).replace(/[$.]/g, '\\$&')} of \\$50\\.00 left`));
      assert.equal(await allocation.getByRole('progressbar').getAttribute('aria-valuenow'), String(mine));
      assert.match(await ui.page.getByText('Spend today', { exact: true }).locator('..').innerText(), new RegExp(usd(mine).replace(/[$.]/g, '\\$&')));
      const topKeys = ui.page.locator('section', { has: ui.page.getByRole('heading', { name: /Top keys/ }) });
      assert.deepEqual(await topKeys.getByRole('link').allInnerTexts(), ['mia-notebook'], 'only their own key');
      assert.equal(await ui.page.getByText('max-batch').count(), 0);
      const width = await ui.page.evaluate('document.documentElement.scrollWidth') as number;
      assert.ok(width <= PHONE.width, `no sideways scroll: ${width}px`);

      await visit(ui.page, '/ui/spend?group=key');
      const table = ui.page.getByRole('table', { name: 'Spend by key' });
      assert.deepEqual((await table.locator('tbody tr td:first-child').allInnerTexts()).map((t) => t.split(/\s/)[0]), ['mia-notebook', 'Total']);
      const spendWidth = await ui.page.evaluate('document.documentElement.scrollWidth') as number;
      assert.ok(spendWidth <= PHONE.width, `no sideways scroll on the explorer: ${spendWidth}px`);
      assert.deepEqual(ui.problems, []);
    } finally {
      await ui.context.close();
    }
  });
});
