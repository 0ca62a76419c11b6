// The keys pages in a real browser (issue 12, seed 002): an admin creates a key from the dialog,
// reads its secret once and calls a model with it through the official SDK, finds it by search,
// rotates it, disables and enables it, revokes it after confirming; a member creates a key of
// their own within the team's self-service policy, sees the refusal next to the field it names,
// and cannot see another member's key; a viewer sees no write button. axe-core on the list, the
// open dialog and a key page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { startGateway, type Gateway } from './support/gateway.ts';
import { browserSkip, launchBrowser, openUi, PASSWORD, PHONE, seedPeople, signInUi, type People, noAxe } from './support/browser.ts';

const ask = (gw: Gateway, secret: string) => gw.openai(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** A confirmation dialog's confirm button, clicked. */
async function confirm(page: Page, title: RegExp, button: string): Promise<void> {
  await page.getByRole('dialog', { name: title }).getByRole('button', { name: button }).click();
}

describe('keys pages in the browser (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  before(async () => {
    [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
    people = await seedPeople(gw);
    const policy = await gw.api('PUT', `/api/teams/${people.teamId}/self-service`, { enabled: true, max_budget_usd: 10 });
    assert.equal(policy.status, 200);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('admin: create (secret once, works through the SDK), search, rotate, disable / enable, revoke', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    // a key that the search must leave out
    assert.equal((await gw.api('POST', '/api/keys', { name: 'billing-batch', team_id: people.otherTeamId })).status, 201);
    await signInUi(ui, people.admin, PASSWORD, '/ui/keys');
    await page.getByRole('heading', { name: 'Keys', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'billing-batch' }).waitFor();
    await noAxe(page, '/ui/keys');

    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a key' });
    // a team is chosen from the start, and an admin picks the owner (no self-service note)
    await dialog.getByLabel('Owner').getByRole('option', { name: 'You' }).waitFor({ state: 'attached' });
    assert.notEqual(await dialog.getByLabel('Team').inputValue(), '');
    assert.equal(await dialog.getByText(/self-service/i).count(), 0);
    await dialog.getByLabel('Team').selectOption({ label: 'Search' });
    await dialog.getByLabel('Name').fill('search-backend');
    await dialog.getByLabel('Budget (USD)').fill('50');
    await dialog.getByLabel('Requests per minute').fill('600');
    await dialog.getByLabel('Tags').fill('prod, search');
    await noAxe(page, 'the create dialog');
    await dialog.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByRole('dialog', { name: 'Key created' });
    await shown.getByText('you will not see this again').waitFor();
    const secret = await shown.getByLabel(/Secret of/).inputValue();
    assert.match(secret, /^sk-tg-/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret, 'the copy button copies the secret');
    const answer = await ask(gw, secret);
    assert.ok(answer.choices[0]?.message.content, 'the new key calls a model');
    await shown.getByRole('button', { name: 'Done' }).click();
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone once the dialog is closed');

    // server-side search, kept in the URL
    await page.getByLabel('Search keys').fill('search-back');
    await page.waitForURL(/q=search-back/);
    await page.getByRole('link', { name: 'billing-batch' }).waitFor({ state: 'detached' });
    const row = page.getByRole('row', { name: /search-backend/ });
    await row.waitFor();
    assert.match(await row.innerText(), /Search/);
    assert.match(await row.innerText(), /\$50\.00/, 'the budget is in the row');
    assert.ok(!(await page.content()).includes(secret), 'never in the list');

    await page.getByRole('link', { name: 'search-backend' }).click();
    await page.getByRole('heading', { name: 'search-backend', level: 1 }).waitFor();
    await page.getByText('Spend per day, last 30 days').waitFor();
    await page.getByRole('heading', { name: 'This key' }).waitFor();
    await page.getByRole('table', { name: 'Recent requests of this key' }).getByRole('cell', { name: 'gpt-4o-mini' }).waitFor();
    await noAxe(page, 'a key page');

    // rotate without grace: the new secret works, the old one no longer does
    await page.getByRole('button', { name: 'Rotate', exact: true }).click();
    const rotate = page.getByRole('dialog', { name: /Rotate/ });
    await rotate.getByLabel('Grace period for the old secret').selectOption({ label: 'None: the old secret stops now' });
    await rotate.getByRole('button', { name: 'Rotate' }).click();
    const fresh = await rotate.getByLabel('New secret').inputValue();
    assert.notEqual(fresh, secret);
    await ask(gw, fresh);
    await assert.rejects(ask(gw, secret), (err: { status?: number }) => err.status === 401);
    await rotate.getByRole('button', { name: 'Done' }).click();

    // a rotation schedule: a bad value, then one this gateway cannot honour (no key webhook to
    // deliver the new secrets to), each explained under the field it is about
    await page.getByRole('button', { name: 'Schedule rotation' }).click();
    await page.getByLabel('Rotate every (days)').fill('0');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.locator('#f-rotate_every_days-error').waitFor();
    await page.getByLabel('Rotate every (days)').fill('30');
    await page.getByLabel('Old secret keeps working (hours)').fill('2');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.locator('#f-rotate_every_days-error', { hasText: /webhook/ }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Schedule rotation' }).waitFor();

    await page.getByRole('button', { name: 'Disable' }).click();
    await confirm(page, /Disable/, 'Disable key');
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    await assert.rejects(ask(gw, fresh), (err: { status?: number }) => err.status === 401 || err.status === 403);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    await ask(gw, fresh);

    await page.getByRole('button', { name: 'Revoke' }).click();
    await confirm(page, /Revoke/, 'Revoke key');
    await page.getByText('revoked', { exact: true }).waitFor();
    // the proxy answers a revoked key 403 (its own code), an unknown secret 401
    await assert.rejects(ask(gw, fresh), (err: { status?: number; message?: string }) => err.status === 403 && /revoked/.test(err.message ?? ''));
    assert.equal(await page.getByRole('button', { name: 'Rotate', exact: true }).count(), 0, 'a revoked key has no actions');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('member: a self-service key within the policy, the refusal next to its field, nobody else\'s key', async () => {
    const others = await gw.api('GET', `/api/users?email=${encodeURIComponent(people.other)}`);
    const otherId = (others.body.data as Array<{ id: number }>)[0]!.id;
    const theirs = await gw.api('POST', '/api/keys', { name: 'max-private', team_id: people.teamId, user_id: otherId });
    assert.equal(theirs.status, 201);

    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.member, PASSWORD, '/ui/keys');
    // signInUi waits for the sidebar, which a phone folds away: the phone comes after signing in
    await page.setViewportSize(PHONE);
    await page.getByRole('heading', { name: 'Keys', level: 1 }).waitFor();
    await page.getByText('No keys yet').waitFor();
    assert.equal(await page.getByRole('tab').count(), 0, 'a member has My keys only');
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    assert.ok(overflow <= 0, `the page fits a phone (${overflow}px too wide)`);

    await page.getByRole('button', { name: 'Create key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a key' });
    await dialog.getByText(/a budget of at most \$10\.00 per key/).waitFor();
    await dialog.getByLabel('Name').fill('notebook');
    const budget: Locator = dialog.getByLabel('Budget (USD)');
    await budget.fill('50');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const error = dialog.getByRole('alert').filter({ hasText: /ceiling/ });
    await error.waitFor();
    assert.equal(await budget.getAttribute('aria-invalid'), 'true', 'the error belongs to the budget field');
    assert.equal(await budget.getAttribute('aria-describedby'), await error.getAttribute('id'));

    await budget.fill('5');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = page.getByRole('dialog', { name: 'Key created' });
    const secret = await shown.getByLabel(/Secret of/).inputValue();
    await ask(gw, secret);
    await shown.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('link', { name: 'notebook' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'max-private' }).count(), 0, "another member's key is not in My keys");

    await page.goto(`/ui/keys/${theirs.body.id}`);
    await page.getByRole('heading', { name: 'Key not found', level: 1 }).waitFor();
    assert.ok(!(await page.content()).includes('max-private'), 'nothing of the key is shown');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('admin: a management key created (secret once, works on /api), renamed and given an expiry, then revoked', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/management-keys');
    await page.getByRole('button', { name: 'Create management key' }).click();
    const create = page.getByRole('dialog', { name: 'Create a management key' });
    await create.getByLabel('Name').fill('terraform');
    await create.getByLabel('Role').selectOption('viewer');
    await create.getByRole('button', { name: 'Create' }).click();
    const secret = await page.getByRole('dialog', { name: /^Secret of/ }).getByLabel('Management key', { exact: true }).inputValue();
    assert.match(secret, /^sk-tgm-/);
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal((await gw.api('GET', '/api/teams', undefined, secret)).status, 200, 'the secret works on /api');

    await page.getByRole('button', { name: 'Edit terraform' }).click();
    const edit = page.getByRole('dialog', { name: /Edit “terraform”/ });
    await edit.getByLabel('Name').fill('terraform-ci');
    await edit.getByLabel('Expires on').fill('2030-01-31');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'terraform-ci', exact: true }).waitFor();
    const listed = (await gw.api('GET', '/api/management-keys')).body.data.find((k: { name: string }) => k.name === 'terraform-ci');
    assert.match(listed.expires_at, /^2030-01-31|^2030-02-01/);

    await page.getByRole('button', { name: 'Revoke terraform-ci' }).click();
    await confirm(page, /Revoke “terraform-ci”/, 'Revoke key');
    await page.getByRole('button', { name: 'Revoke terraform-ci' }).waitFor({ state: 'detached' });
    assert.equal((await gw.api('GET', '/api/teams', undefined, secret)).status, 401, 'revoked at once');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test("owner: a management key scoped to the team they own, nothing wider offered", async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.owner, PASSWORD, '/ui');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Management keys' }).click();
    await page.getByRole('button', { name: 'Create management key' }).click();
    const create = page.getByRole('dialog', { name: 'Create a management key' });
    const scopes = await create.getByLabel('Scope').locator('option').allInnerTexts();
    assert.deepEqual(scopes, ['Team: Search'], 'only the team they own');
    await create.getByLabel('Name').fill('search-ci');
    await create.getByRole('button', { name: 'Create' }).click();
    const secret = await page.getByRole('dialog', { name: /^Secret of/ }).getByLabel('Management key', { exact: true }).inputValue();
    await page.getByRole('button', { name: 'Done' }).click();
    const created = (await gw.api('GET', '/api/management-keys')).body.data.find((k: { name: string }) => k.name === 'search-ci');
    assert.equal(created.team_id, people.teamId);
    assert.equal(created.role, 'owner');
    assert.equal((await gw.api('GET', `/api/teams/${people.teamId}`, undefined, secret)).status, 200);
    assert.equal((await gw.api('GET', `/api/teams/${people.otherTeamId}`, undefined, secret)).status, 403, 'another team is not reachable with it');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('viewer: every key readable, no write button on the list, a key page or the management keys', async () => {
    const key = await gw.api('POST', '/api/keys', { name: 'read-only-check', team_id: people.teamId });
    assert.equal(key.status, 201);
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.viewer, PASSWORD, '/ui/keys');
    await page.getByRole('link', { name: 'read-only-check' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create key' }).count(), 0);
    await page.getByRole('link', { name: 'read-only-check' }).click();
    await page.getByRole('heading', { name: 'read-only-check', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Secrets and rotation' }).waitFor();
    for (const name of ['Edit', 'Rotate', 'Disable', 'Revoke']) assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
    await page.goto('/ui/management-keys');
    await page.getByRole('heading', { name: 'Management keys', level: 1 }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Create|Rotate|Revoke/ }).count(), 0);
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });
});
