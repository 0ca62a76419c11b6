// The teams pages in a real browser (issue 12, seed 003): an admin creates a team from the list,
// gives it a budget and sees its use as a progress bar, refuses a negative budget with the API's
// error under that field, adds a member with a monthly allocation and creates a service account; a
// team owner manages their team's members but another team's page (where they are only a member)
// has no write buttons; a viewer sees none either. The asset set (admins), the self-service
// policy and invitations into the team (owners) are handled from their tabs. axe-core on the list and a team page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startGateway, type Gateway } from './support/gateway.ts';
import { browserSkip, launchBrowser, openUi, PASSWORD, PHONE, seedPeople, signInUi, type People, noAxe } from './support/browser.ts';

/** Buttons that would change something, by the names the team pages give them. */
const WRITE = /^(Edit|Edit team|Add member|Invite by email|Remove|Create service account|Delete|Change limits|Change policy|Change models)\b/;

/** the members table of a team page (not the credit trail beside it, which names people too) */
const membersTable = (page: Page) => page.getByRole('table', { name: /^Members of/ });

async function writeButtons(page: Page): Promise<string[]> {
  const names = await page.getByRole('button').evaluateAll((els) => els.map((e) => (e.getAttribute('aria-label') ?? e.textContent ?? '').trim()));
  return names.filter((n) => WRITE.test(n));
}

describe('teams pages in the browser (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  before(async () => {
    [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
    people = await seedPeople(gw);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('admin: create a team, budget with its progress, a bad budget under its field, a member with an allocation, a service account', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/teams');
    await page.getByRole('link', { name: 'Payments' }).waitFor();
    await noAxe(page, '/ui/teams');

    await page.getByRole('button', { name: 'Create team' }).click();
    const create = page.getByRole('dialog', { name: 'Create team' });
    await create.getByLabel('Name').fill('Research');
    await create.getByLabel('Description').fill('Model evaluations');
    await create.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('link', { name: 'Research' }).waitFor();
    const listed = await gw.api('GET', '/api/teams?q=research');
    assert.equal(listed.body.data.length, 1, 'the team exists in the API');
    const teamId = listed.body.data[0].id as number;

    // the search is the server's
    await page.getByLabel('Search teams').fill('paym');
    await page.getByRole('link', { name: 'Research' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Payments' }).waitFor();
    await page.getByLabel('Search teams').fill('');

    await page.getByRole('link', { name: 'Research' }).click();
    await page.getByRole('heading', { name: 'Research', level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Limits & budget' }).click();
    await page.getByRole('button', { name: 'Change limits' }).click();
    const budget = page.getByLabel('Budget (USD)');
    await budget.fill('-5');
    await page.getByRole('button', { name: 'Save limits' }).click();
    const error = page.getByRole('alert').filter({ hasText: /must not be negative/ });
    await error.waitFor();
    assert.equal(await budget.getAttribute('aria-invalid'), 'true', 'the error belongs to the budget field');
    assert.equal(await budget.getAttribute('aria-describedby'), await error.getAttribute('id'));

    await budget.fill('100');
    // A team's member share of its token limits (seed 001): refused under its field, then kept.
    await page.getByLabel('Tokens per minute').fill('100000');
    const share = page.getByLabel("Each member's share of the token limits");
    await share.fill('half');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByRole('alert').filter({ hasText: /"fair" or a fraction/ }).waitFor();
    assert.equal(await share.getAttribute('aria-invalid'), 'true', 'the error belongs to the member share field');
    await share.fill('fair');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.getByText('fair: divided among active members').waitFor();
    assert.equal((await gw.api('GET', `/api/teams/${teamId}/limits`)).body.policy.member_share, 'fair');
    // spend in the team: the bar moves
    const key = await gw.api('POST', '/api/keys', { name: 'eval-runner', team_id: teamId });
    await gw.openai(key.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await page.reload();
    const bar = page.getByRole('progressbar', { name: /^Budget/ });
    await bar.waitFor();
    assert.equal(await bar.getAttribute('aria-valuemax'), '100');
    assert.ok(Number(await bar.getAttribute('aria-valuenow')) > 0, 'the spend shows on the bar');
    await page.getByText(/of \$100\.00/).first().waitFor();
    await noAxe(page, 'a team page (limits)');

    await page.getByRole('tab', { name: 'Members & allocations' }).click();
    await page.getByRole('button', { name: 'Add member' }).click();
    const add = page.getByRole('dialog', { name: /Add a member/ });
    await add.getByLabel('Find a person').fill('mia@');
    await add.getByLabel('Person', { exact: true }).selectOption({ label: 'mia (mia@example.com)' });
    await add.getByLabel('Monthly allocation (USD)').fill('25');
    await add.getByRole('button', { name: 'Add member' }).click();
    const row = membersTable(page).getByRole('row', { name: /mia@example\.com/ });
    await row.waitFor();
    assert.match(await row.innerText(), /\$0\.00 of \$25\.00/);
    await row.getByRole('progressbar').waitFor();
    const members = await gw.api('GET', `/api/teams/${teamId}/members`);
    assert.equal(members.body.data[0].allocation_usd, 25);
    // seed 003's trail: the allocation is recorded, with its amount
    await page.getByRole('row', { name: /Allocation set.*mia.*\$25\.00/ }).waitFor();
    await noAxe(page, 'a team page (members)');

    await page.getByRole('tab', { name: 'Service accounts' }).click();
    await page.getByRole('button', { name: 'Create service account' }).click();
    const sa = page.getByRole('dialog', { name: 'Create service account' });
    await sa.getByLabel('Name').fill('nightly-evals');
    await sa.getByRole('button', { name: 'Create service account' }).click();
    await page.getByRole('row', { name: /nightly-evals/ }).waitFor();
    const accounts = await gw.api('GET', `/api/teams/${teamId}/service-accounts`);
    assert.deepEqual(accounts.body.data.map((a: { name: string }) => a.name), ['nightly-evals']);

    // the asset set: an allowlist of its own instead of the organization's
    await page.getByRole('tab', { name: 'Models & access' }).click();
    await page.getByRole('button', { name: 'Change models' }).click();
    await page.getByLabel(/Inherit the organization's models/).uncheck();
    await page.getByLabel('Models', { exact: true }).fill('gpt-4o-mini');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /gpt-4o-mini/ }).getByText('allowed', { exact: true }).waitFor();
    assert.deepEqual((await gw.api('GET', `/api/teams/${teamId}`)).body.models, ['gpt-4o-mini']);

    await page.getByRole('tab', { name: 'Keys' }).click();
    await page.getByRole('link', { name: 'eval-runner' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'All keys of this team' }).getAttribute('href'), `/ui/keys?team_id=${teamId}`);
    await noAxe(page, 'a team page (keys)');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test("owner: manages their team's members; another team's page (as a member) has no write buttons", async () => {
    await gw.api('PUT', `/api/teams/${people.otherTeamId}/members/${await userId(gw, people.owner)}`, { role: 'member' });
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.owner, PASSWORD, '/ui/teams');
    await page.getByRole('link', { name: 'Search' }).waitFor();
    await page.getByRole('link', { name: 'Payments' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create team' }).count(), 0, 'only admins create teams');

    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByRole('heading', { name: 'Search', level: 1 }).waitFor();
    const row = membersTable(page).getByRole('row', { name: /mia@example\.com/ });
    await row.getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: /Edit/ });
    await edit.getByLabel('Monthly allocation (USD)').fill('30');
    await edit.getByRole('button', { name: 'Save' }).click();
    await membersTable(page).getByRole('row', { name: /of \$30\.00/ }).waitFor();
    // the member's own rate limit: the allocation (their budget) stays as it is
    await membersTable(page).getByRole('row', { name: /mia@example\.com/ }).getByRole('button', { name: /^Limits of/ }).click();
    const limits = page.getByRole('dialog', { name: /Limits of .* in Search/ });
    await limits.getByRole('button', { name: 'Change limits' }).click();
    await limits.getByLabel('Requests per minute').fill('30');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.getByRole('button', { name: 'Change limits' }).waitFor();
    const mia = await userId(gw, people.member);
    const memberLimits = await gw.api('GET', `/api/teams/${people.teamId}/members/${mia}/limits`);
    assert.equal(memberLimits.body.policy.rpm, 30);
    assert.equal(memberLimits.body.policy.max_budget_usd, 30, 'the allocation is untouched');
    await page.keyboard.press('Escape');
    assert.equal(await page.getByRole('button', { name: 'Edit team' }).count(), 0, "the team's name is the admins'");
    // an invitation into the team: the link once, then pending until revoked
    await page.getByRole('button', { name: 'Invite by email' }).click();
    const invite = page.getByRole('dialog', { name: /Invite someone to Search/ });
    await invite.getByLabel('Email').fill('nina@example.com');
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    assert.match(await invite.getByLabel('Invitation link').inputValue(), /\/ui\/invitations\/.+/);
    await invite.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Revoke the invitation of nina@example.com' }).click();
    await page.getByRole('dialog', { name: /Revoke the invitation/ }).getByRole('button', { name: 'Revoke invitation' }).click();
    await page.getByRole('table', { name: /Pending invitations/ }).waitFor({ state: 'detached' });
    const invitations = await gw.api('GET', '/api/invitations');
    assert.deepEqual(invitations.body.data.map((i: { email: string; status: string }) => [i.email, i.status]), [['nina@example.com', 'revoked']]);
    // the self-service policy is the owner's to set
    await page.getByRole('tab', { name: 'Self-service' }).click();
    await page.getByRole('button', { name: 'Change policy' }).click();
    await page.getByLabel('Members may create their own keys').check();
    await page.getByLabel('Highest budget per key (USD)').fill('15');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('row', { name: /Budget per key/ }).getByText('at most $15.00').waitFor();
    const policy = await gw.api('GET', `/api/teams/${people.teamId}/self-service`);
    assert.deepEqual([policy.body.enabled, policy.body.max_budget_usd], [true, 15]);

    await page.getByRole('link', { name: 'Teams' }).first().click();
    await page.getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { name: 'Payments', level: 1 }).waitFor();
    await membersTable(page).getByRole('row', { name: /owen@example\.com/ }).waitFor();
    assert.deepEqual(await writeButtons(page), [], 'no write buttons on a team one only belongs to');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('viewer: a team page (every tab, on a phone) has no write buttons', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.viewer, PASSWORD, `/ui/teams/${people.teamId}`);
    await page.setViewportSize(PHONE);
    await page.getByRole('heading', { name: 'Search', level: 1 }).waitFor();
    await membersTable(page).getByRole('row', { name: /mia@example\.com/ }).waitFor();
    for (const tab of ['Members & allocations', 'Keys', 'Service accounts', 'Limits & budget', 'Self-service', 'Models & access']) {
      await page.getByRole('tab', { name: tab }).click();
      await loaded(page);
      assert.deepEqual(await writeButtons(page), [], `no write buttons on ${tab}`);
    }
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    assert.ok(overflow <= 0, `the page fits a phone (${overflow}px too wide)`);
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });
});

/** Until nothing on the page says it is loading (a string predicate would be refused by the CSP). */
async function loaded(page: Page): Promise<void> {
  for (let i = 0; i < 100 && (await page.getByText('Loading…').count()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await page.getByText('Loading…').count(), 0, 'the page finished loading');
}

async function userId(gw: Gateway, email: string): Promise<number> {
  const res = await gw.api('GET', `/api/users?email=${encodeURIComponent(email)}`);
  return (res.body.data as Array<{ id: number }>)[0]!.id;
}
