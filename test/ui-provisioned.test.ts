// Provisioned keys in a real browser (issue 13, seed 003): a member with an allocation provisions
// an OpenRouter key from the dashboard — the secret is shown once, the key exists at the (fake)
// provider with its limit — a limit beyond what is left of the allocation is refused under the
// limit field and nothing is created; revoking it after confirming deletes it at the provider; the
// team's owner sees it in the team's list. axe-core finds no serious or critical violation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/gateway.ts';
import { openrouterOf, type FakeOpenRouter } from './support/fake-openrouter.ts';
import { browserSkip, launchBrowser, openUi, PASSWORD, seedPeople, signInUi, type People, noAxe } from './support/browser.ts';

describe('provisioned keys in the browser (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  let or: FakeOpenRouter;
  before(async () => {
    [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
    people = await seedPeople(gw);
    or = openrouterOf(gw.fake);
    or.managementKey = `sk-or-v1-fake-management-${randomBytes(10).toString('hex')}`;
    const credential = await gw.api('POST', '/api/providers', { name: 'OpenRouter team account', provider: 'openrouter-provisioning', base_url: gw.fake.baseUrl + '/api/v1', api_key: or.managementKey });
    assert.equal(credential.status, 201, JSON.stringify(credential.body));
    assert.equal((await gw.api('PUT', `/api/teams/${people.teamId}/self-service`, { enabled: true })).status, 200);
    const member = await gw.runtime.deps.db.kysely.selectFrom('users').select('id').where('email', '=', people.member).executeTakeFirstOrThrow();
    assert.equal((await gw.api('PUT', `/api/teams/${people.teamId}/members/${member.id}`, { allocation_usd: 50 })).status, 200);
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('a member provisions a key (secret once), is refused past the allocation, revokes it; the owner sees the team\'s', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.member, PASSWORD, '/ui/provisioned-keys');
    await page.getByRole('heading', { name: 'Provisioned keys', level: 1 }).waitFor();
    await page.getByText('You have no provisioned keys.').waitFor();
    await noAxe(page, '/ui/provisioned-keys');

    await page.getByRole('button', { name: 'Provision a key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Provision a key' });
    await dialog.getByLabel('Provider account').selectOption({ label: 'OpenRouter team account' });
    await dialog.getByLabel('Name').fill('notebook');
    await dialog.getByLabel('Credit limit (USD)').fill('20');
    await dialog.getByRole('button', { name: 'Provision key' }).click();
    const shown = page.getByRole('dialog', { name: 'notebook provisioned' });
    const secret = await shown.getByLabel('Secret of “notebook”').inputValue();
    assert.match(secret, /^sk-or-v1-/);
    assert.equal([...or.keys.values()].filter((k) => k.limit === 20).length, 1, 'the key exists at the provider with its limit');
    await shown.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('table', { name: 'My provisioned keys' }).getByRole('row').filter({ hasText: 'notebook' });
    await row.getByText('active').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');

    // $30 left of $50: a $40 limit is refused under its field, nothing created at the provider.
    await page.getByRole('button', { name: 'Provision a key' }).click();
    const again = page.getByRole('dialog', { name: 'Provision a key' });
    await again.getByLabel('Name').fill('too-big');
    const limit = again.getByLabel('Credit limit (USD)');
    await limit.fill('40');
    await again.getByRole('button', { name: 'Provision key' }).click();
    await again.getByRole('alert').filter({ hasText: /remaining/ }).waitFor();
    assert.equal(await limit.getAttribute('aria-invalid'), 'true');
    assert.equal(or.keys.size, 1, 'nothing created at the provider');
    await again.getByRole('button', { name: 'Cancel' }).click();

    await row.getByRole('button', { name: 'Revoke notebook' }).click();
    await page.getByRole('dialog', { name: 'Revoke notebook?' }).getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('You have no provisioned keys.').waitFor();
    assert.equal(or.keys.size, 0, 'deleted at the provider');

    // One more, kept: the team's owner sees it, and may revoke it.
    await page.getByRole('button', { name: 'Provision a key' }).click();
    const third = page.getByRole('dialog', { name: 'Provision a key' });
    await third.getByLabel('Name').fill('kept');
    await third.getByLabel('Credit limit (USD)').fill('10');
    await third.getByRole('button', { name: 'Provision key' }).click();
    await page.getByRole('dialog', { name: 'kept provisioned' }).getByRole('button', { name: 'Done' }).click();
    assert.deepEqual(ui.problems, []);
    await ui.context.close();

    const owner = await openUi(browser, gw);
    await signInUi(owner, people.owner, PASSWORD, '/ui/provisioned-keys');
    const teamRow = owner.page.getByRole('table', { name: 'Team provisioned keys' }).getByRole('row').filter({ hasText: 'kept' });
    await teamRow.getByRole('button', { name: /^Revoke kept of user/ }).waitFor();
    assert.equal(await owner.page.getByRole('table', { name: 'Team provisioned keys' }).getByText('notebook').count(), 0, 'revoked keys are not listed');
    assert.deepEqual(owner.problems, []);
    await owner.context.close();
  });
});
