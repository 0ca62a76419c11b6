// Issue 12's journeys through the dashboard, end to end and across pages, as people would go:
// an admin signs in, creates a team, creates a key in it and reads its secret once, a request is
// made with it through the official `openai` SDK, the request shows on the logs page and its spend
// on the overview, and the key is rotated and revoked; a member creates a self-service key, is
// refused with the team's constraint shown under the field, and cannot see another member's key;
// a viewer sees no write button on any page; signing out ends the session for the back button and
// for the API. One Tollgate (SQLite, the fake upstream) whose "gpt-credits" model costs exactly $6
// a request, so the spend on the pages is a round number.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from './support/gateway.ts';
import { CREDITS_MODEL, startPricedGateway } from './support/priced.ts';
import { browserSkip, launchBrowser, navigate, openUi, PASSWORD, seedPeople, settle, signInUi, visit, type People } from './support/browser.ts';

const ask = (gw: Gateway, secret: string) => gw.openai(secret).chat.completions.create({ model: CREDITS_MODEL, messages: [{ role: 'user', content: 'Summarize our refund policy' }] });

/** The navigation's link to a page, clicked (as a person moves between pages). */
async function go(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  await settle(page);
}

/** Buttons that change something: none of them may be shown to a viewer. */
const WRITE_BUTTON = /^(create|new|add|delete|remove|revoke|rotate|save|edit|disable|enable|invite|deactivate|reactivate)\b/i;

/** What the viewer check reads of a button (tests compile without the DOM's types). */
interface ShownButton { getClientRects(): { length: number }; getAttribute(name: string): string | null; innerText: string }

describe('dashboard journeys (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  before(async () => {
    [gw, browser] = await Promise.all([startPricedGateway(), launchBrowser()]);
    people = await seedPeople(gw);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('admin: a new team, a key read once, a request through the SDK seen in the logs and on the overview, rotated, revoked', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    // Teams → Create team
    await go(page, 'Teams');
    await page.getByRole('button', { name: 'Create team' }).click();
    const create = page.getByRole('dialog', { name: 'Create team' });
    await create.getByLabel('Name').fill('Growth Experiments');
    await create.getByLabel('Description').fill('A/B tests of onboarding copy');
    await create.getByRole('button', { name: 'Create team' }).click();
    await create.waitFor({ state: 'hidden' });
    await page.getByRole('link', { name: 'Growth Experiments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Growth Experiments' }).waitFor();

    // the team's keys → Create key (the team already chosen)
    await page.getByRole('tab', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'All keys of this team' }).click();
    await page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a key' });
    assert.equal(await dialog.getByLabel('Team').locator('option:checked').innerText(), 'Growth Experiments', 'the dialog starts in the team being looked at');
    await dialog.getByLabel('Name').fill('onboarding-copy');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'Key created' });
    await shown.getByText('you will not see this again').waitFor();
    const secret = await shown.getByLabel(/Secret of/).inputValue();
    assert.match(secret, /^sk-tg-/);
    await shown.getByRole('button', { name: 'Done' }).click();
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone once read');

    // a request through the official SDK
    const answer = await ask(gw, secret);
    assert.ok(answer.choices[0]?.message.content);
    await gw.flush();

    // Request logs: the request is there; its drawer has its cost and key
    await go(page, 'Request logs');
    const row = page.getByRole('row', { name: new RegExp(CREDITS_MODEL) });
    await row.waitFor();
    assert.match(await row.innerText(), /\$6\.00/);
    assert.match(await row.innerText(), /onboarding-copy[\s\S]*Growth Experiments/, 'the row names the key and its team');
    await row.getByRole('button', { name: /Details of the request/ }).click();
    const drawer = page.getByRole('complementary', { name: 'Request details' });
    await drawer.getByText('$6.00').first().waitFor();
    assert.match(await drawer.innerText(), /200/);

    // Overview: today's spend, the team on top, the chart drawn with it
    await go(page, 'Overview');
    // the figure is the label's neighbour: read the label's parent
    const today = page.getByText('Spend today', { exact: true }).locator('..');
    assert.match(await today.innerText(), /\$6\.00/);
    const topTeams = page.locator('section', { has: page.getByRole('heading', { name: /Top teams/ }) });
    assert.match(await topTeams.innerText(), /Growth Experiments[\s\S]*\$6\.00/);
    const chart = page.getByRole('img', { name: /Spend per day/ });
    assert.match((await chart.getAttribute('aria-label')) ?? '', /total \$6\.00/, 'the chart holds the spend');

    // Keys → the key → rotate (the old secret stops), revoke (after confirming)
    await go(page, 'Keys');
    await page.getByRole('link', { name: 'onboarding-copy' }).click();
    await page.getByRole('heading', { level: 1, name: 'onboarding-copy' }).waitFor();
    await page.getByRole('button', { name: 'Rotate', exact: true }).click();
    const rotate = page.getByRole('dialog', { name: /Rotate/ });
    await rotate.getByLabel('Grace period for the old secret').selectOption({ label: 'None: the old secret stops now' });
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    const fresh = await rotate.getByLabel('New secret').inputValue();
    assert.notEqual(fresh, secret);
    await rotate.getByRole('button', { name: 'Done' }).click();
    await ask(gw, fresh);
    await assert.rejects(ask(gw, secret), (err: { status?: number }) => err.status === 401);

    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog', { name: /Revoke/ }).getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('revoked', { exact: true }).waitFor();
    await assert.rejects(ask(gw, fresh), (err: { status?: number }) => err.status === 403);
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test("member: a self-service key, refused with the constraint under its field, and no other member's key", async () => {
    assert.equal((await gw.api('PUT', `/api/teams/${people.teamId}/self-service`, { enabled: true, max_budget_usd: 20, require_expiry: false })).status, 200);
    const other = (await gw.api('GET', `/api/users?email=${encodeURIComponent(people.other)}`)).body.data[0].id as number;
    const theirs = await gw.api('POST', '/api/keys', { name: 'max-private-notebook', team_id: people.teamId, user_id: other });
    assert.equal(theirs.status, 201);

    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.member, PASSWORD, '/ui');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await go(page, 'Keys');
    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a key' });
    await dialog.getByText('a budget of at most $20.00 per key', { exact: false }).waitFor();
    await dialog.getByLabel('Name').fill('mia-notebook');
    const budget = dialog.getByLabel('Budget (USD)');
    await budget.fill('75');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const refusal = dialog.getByRole('alert').filter({ hasText: /ceiling|at most/ });
    await refusal.waitFor();
    assert.equal(await budget.getAttribute('aria-describedby'), await refusal.getAttribute('id'), 'the refusal is under the budget field');
    await budget.fill('15');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'Key created' });
    const secret = await shown.getByLabel(/Secret of/).inputValue();
    await shown.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'mia-notebook' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'max-private-notebook' }).count(), 0, "another member's key is not listed");

    // their own request shows in their logs; the other member's key stays hidden everywhere
    await ask(gw, secret);
    await gw.flush();
    await go(page, 'Request logs');
    await page.getByRole('row', { name: new RegExp(CREDITS_MODEL) }).first().waitFor();
    await visit(page, `/ui/keys/${theirs.body.id}`);
    assert.ok(!(await page.content()).includes('max-private-notebook'), "nothing of another member's key is shown");
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('viewer: reads every page, and no page shows a button that changes something', async () => {
    const key = await gw.api('POST', '/api/keys', { name: 'viewer-sees-this', team_id: people.teamId });
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.viewer, PASSWORD, '/ui');
    const pages = ['/ui', '/ui/keys', `/ui/keys/${key.body.id}`, '/ui/teams', `/ui/teams/${people.teamId}`, '/ui/spend', '/ui/logs', '/ui/people', '/ui/access-groups', '/ui/providers', '/ui/audit', '/ui/settings'];
    const offered: string[] = [];
    const scan = async (where: string) => {
      // the names of the visible buttons, in one round trip
      const names = await page.getByRole('button').evaluateAll((buttons) => (buttons as unknown as ShownButton[])
        .filter((b) => b.getClientRects().length > 0)
        .map((b) => (b.getAttribute('aria-label') ?? b.innerText).trim()));
      for (const name of names) if (WRITE_BUTTON.test(name)) offered.push(`${where}: ${name}`);
    };
    for (const path of pages) {
      await navigate(page, path);
      await scan(path);
      // and every tab of the page (a team's members, keys, limits, self-service, …)
      const tabs = page.getByRole('tab');
      for (let i = 0; i < (await tabs.count()); i++) {
        await tabs.nth(i).click();
        await settle(page);
        await scan(`${path} (${(await tabs.nth(i).innerText()).trim()})`);
      }
    }
    assert.deepEqual(offered, [], 'write buttons shown to a viewer');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('sign-out ends the session: the back button shows the sign-in page, the API answers 401', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.owner, PASSWORD, '/ui/teams');
    await page.getByRole('heading', { level: 1, name: 'Teams' }).waitFor();
    assert.equal((await page.request.get('/api/me')).status(), 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/ui/sign-in');
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'no page of the app behind the back button');
    assert.equal((await page.request.get('/api/me')).status(), 401);
    assert.equal((await page.request.get('/api/keys')).status(), 401);
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });
});
