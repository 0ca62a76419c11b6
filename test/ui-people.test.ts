// The people and access-group pages in a real browser (issue 12): an admin searches users (the
// server's search), invites someone (the link is shown once, and opening it in a fresh browser lets
// the invitee set a password and land signed in), deactivates a user after a confirmation that says
// what happens; access groups are created, edited and deleted (forced, after a second confirmation,
// when a team still grants the group). axe-core on /ui/people and /ui/access-groups.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/gateway.ts';
import { browserSkip, launchBrowser, openUi, PASSWORD, seedPeople, signInUi, type People, noAxe } from './support/browser.ts';

describe('people and access groups in the browser (sqlite)', { skip: browserSkip() }, () => {
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

  test('admin: server-side search, an invitation whose link works once shown, a deactivation after confirming', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/people');
    await page.getByRole('row', { name: /max@example\.com/ }).waitFor();
    await noAxe(page, '/ui/people');

    const asked = page.waitForRequest((r) => /\/api\/users\?.*q=vera/.test(r.url()));
    await page.getByRole('searchbox', { name: 'Search users' }).fill('vera');
    await asked;
    await page.getByRole('row', { name: /max@example\.com/ }).waitFor({ state: 'detached' });
    await page.getByRole('row', { name: /vera@example\.com/ }).waitFor();
    await page.getByRole('searchbox', { name: 'Search users' }).fill('');

    // deactivate max: the confirmation says what it does
    await page.getByRole('button', { name: 'Deactivate max (max@example.com)' }).click();
    const confirm = page.getByRole('dialog', { name: /Deactivate max/ });
    await confirm.getByText(/sessions end/).waitFor();
    await confirm.getByText(/keys are disabled/).waitFor();
    await confirm.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('row', { name: /max@example\.com/ }).getByText('deactivated').waitFor();
    const max = await gw.api('GET', `/api/users?email=${encodeURIComponent(people.other)}`);
    assert.equal(max.body.data[0].status, 'deactivated');
    await page.getByRole('button', { name: 'Reactivate max (max@example.com)' }).waitFor();

    // invite: the link once
    await page.getByRole('tab', { name: 'Invitations' }).click();
    await page.getByText('Nobody has been invited yet.').waitFor();
    await page.getByRole('button', { name: 'Invite someone' }).click();
    const invite = page.getByRole('dialog', { name: 'Invite someone' });
    await invite.getByLabel('Email').fill('grace@example.com');
    await invite.getByLabel('Team (optional)').selectOption({ label: 'Search' });
    await invite.getByRole('button', { name: 'Create invitation' }).click();
    await invite.getByText('you will not see this again').waitFor();
    const link = await invite.getByLabel('Invitation link').inputValue();
    assert.match(link, new RegExp(`^${gw.url}/ui/invitations/.+`));
    await noAxe(page, 'the invitation shown once');
    await invite.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('row', { name: /grace@example\.com/ }).getByText('pending').waitFor();
    assert.ok(!(await page.content()).includes(link.split('/').at(-1)!), 'the token is gone once the dialog is closed');
    assert.deepEqual(ui.problems, []);

    const guest = await openUi(browser, gw);
    await guest.page.goto(link);
    await guest.page.getByRole('heading', { name: 'Join your team' }).waitFor();
    await guest.page.getByLabel('Your name').fill('Grace');
    await guest.page.getByLabel('Password').fill('a-long-enough-password-1');
    await guest.page.getByRole('button', { name: 'Accept and sign in' }).click();
    await guest.page.locator('nav.sidebar').waitFor({ state: 'attached' });
    await guest.page.getByText('Grace').first().waitFor();
    const grace = await gw.api('GET', '/api/users?email=grace%40example.com');
    assert.equal(grace.body.data[0].password_set, true, 'the invitee set a password');
    assert.deepEqual(guest.problems, []);
    await guest.context.close();

    await page.reload();
    await page.getByRole('row', { name: /grace@example\.com/ }).getByText('accepted', { exact: true }).waitFor();
    await ui.context.close();
  });

  test('access groups: create, edit, delete (forced when a team still grants it)', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/access-groups');
    await page.getByText('No access groups yet').waitFor();
    await page.getByRole('button', { name: 'Create group' }).click();
    const create = page.getByRole('dialog', { name: 'Create access group' });
    await create.getByLabel('Name').fill('cheap-models');
    await create.getByLabel('Models').fill('gpt-4o-mini, gpt-3.5*');
    await create.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('row', { name: /cheap-models/ }).waitFor();
    await noAxe(page, '/ui/access-groups');

    // a bad model name: the API's error under the Models field
    await page.getByRole('button', { name: 'Edit cheap-models' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit cheap-models' });
    const models = edit.getByLabel('Models');
    await models.fill('gpt-4o-mini, gpt-*-mini');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.getByRole('alert').filter({ hasText: /may only end a pattern/ }).waitFor();
    assert.equal(await models.getAttribute('aria-invalid'), 'true', 'the error belongs to the models field');
    await models.fill('gpt-4o-mini');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('row', { name: /cheap-models/ }).getByText('gpt-4o-mini', { exact: true }).waitFor();

    const groups = await gw.api('GET', '/api/access-groups');
    const id = groups.body.data[0].id as number;
    assert.equal((await gw.api('PATCH', `/api/teams/${people.teamId}`, { access_groups: [id] })).status, 200);

    await page.getByRole('button', { name: 'Delete cheap-models' }).click();
    await page.getByRole('dialog', { name: /Delete access group/ }).getByRole('button', { name: 'Delete group' }).click();
    const inUse = page.getByRole('dialog', { name: /still in use/ });
    await inUse.getByText(/1 team/).waitFor();
    await inUse.getByRole('button', { name: 'Delete and remove from rules' }).click();
    await page.getByText('No access groups yet').waitFor();
    const team = await gw.api('GET', `/api/teams/${people.teamId}`);
    assert.deepEqual(team.body.access_groups, [], 'removed from the team rule');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });
});
