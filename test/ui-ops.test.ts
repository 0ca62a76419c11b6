// The operations pages in a real browser (issue 12): an admin adds a provider credential (the
// secret is never shown back, only its last four characters), rotates it, edits its models and
// deletes it after a confirmation naming the models that lose their route; a request made with a
// key appears in the request logs under the key's and team's names, whose drawer shows its tokens,
// cost, key and owner, and a model filter narrows the list; the audit log shows the provider.create
// event by its actor's and target's names, with its fields; a member's wrong current password is
// shown under that field; a viewer sees no write button on providers and settings; an admin sets
// the organization's budget from the settings page. axe-core finds
// no serious or critical violation on each page (the logs page with its drawer open).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/gateway.ts';
import { browserSkip, launchBrowser, openUi, PASSWORD, PHONE, seedPeople, settle, signInUi, type People, noAxe } from './support/browser.ts';

const SECRET = 'sk-ui-provider-secret-7777aaaa1111';
const ROTATED = 'sk-ui-provider-rotated-8888bbbb2222';

describe('operations pages in the browser (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  let keyId: number;
  before(async () => {
    [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
    people = await seedPeople(gw);
    // The member's key: the logs show its name, its owner's and its team's ('Search').
    const memberId = (await gw.runtime.deps.db.kysely.selectFrom('users').select('id').where('email', '=', people.member).executeTakeFirstOrThrow()).id;
    const key = await gw.api('POST', `/api/teams/${people.teamId}/keys`, { name: 'ops-key', user_id: memberId });
    assert.equal(key.status, 201);
    keyId = key.body.id;
    for (const model of ['gpt-4o-mini', 'gpt-4o']) await gw.openai(key.body.key).chat.completions.create({ model, messages: [{ role: 'user', content: `hello ${model}` }] });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('admin: add a provider credential (hint only), rotate its secret, edit its models, delete it after confirming; the audit log shows its creation', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/providers');
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await settle(page);

    await page.getByRole('button', { name: 'Add credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a provider credential' });
    // The provider select lists the registry's providers, not a fixed few.
    await dialog.getByLabel('Provider').locator('option', { hasText: 'Groq' }).waitFor({ state: 'attached' });
    const offered = await dialog.getByLabel('Provider').locator('option').allTextContents();
    for (const label of ['OpenAI', 'Anthropic', 'Groq']) assert.ok(offered.includes(label), `${label} is offered: ${offered.join(', ')}`);
    await dialog.getByLabel('Name').fill('backup-openai');
    await dialog.getByLabel('Base URL').fill('http://127.0.0.1:9/v1');
    await dialog.getByLabel('API key').fill(SECRET);
    await dialog.getByLabel('Models').fill('ui-model-a, ui-model-b');
    await noAxe(page, 'the add dialog');
    await dialog.getByRole('button', { name: 'Add credential' }).click();

    const row = page.getByRole('table', { name: 'Provider credentials' }).getByRole('row').filter({ hasText: 'backup-openai' });
    await row.getByText('...1111').waitFor();
    assert.ok(!(await page.content()).includes(SECRET), 'the secret is not on the page after creation');
    await row.getByText('ui-model-a').waitFor();
    await page.getByRole('table', { name: 'Models and routes' }).getByRole('row').filter({ hasText: 'ui-model-b' }).filter({ hasText: 'backup-openai' }).waitFor();
    await noAxe(page, '/ui/providers');

    await page.getByRole('button', { name: 'Rotate the secret of backup-openai' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the secret of backup-openai' });
    await rotate.getByLabel('New API key').fill(ROTATED);
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    await row.getByText('...2222').waitFor();
    const html = await page.content();
    assert.ok(!html.includes(ROTATED) && !html.includes(SECRET), 'no secret on the page after rotating');

    await page.getByRole('button', { name: 'Edit backup-openai' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit backup-openai' });
    assert.equal(await edit.getByLabel('API key').count(), 0, 'editing never asks for (nor shows) the secret');
    await edit.getByLabel('Models').fill('ui-model-a, ui-model-b, ui-model-c');
    await edit.getByRole('button', { name: 'Save' }).click();
    await row.getByText('ui-model-c').waitFor();

    await page.getByRole('button', { name: 'Delete backup-openai' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete backup-openai?' });
    await confirm.getByText('ui-model-a, ui-model-b, ui-model-c').waitFor();
    await confirm.getByRole('button', { name: 'Delete credential' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await gw.api('GET', '/api/providers')).body.data.some((p: { name: string }) => p.name === 'backup-openai'), false);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.getByLabel('Action').fill('provider.create');
    await page.waitForURL(/action=provider\.create/);
    await settle(page);
    const event = page.getByRole('row').filter({ hasText: 'provider.create' });
    assert.equal(await event.count(), 1);
    // Named, not numbered: the admin who acted, the credential acted on (deleted since; its row keeps the name).
    await event.getByText(people.admin.split('@')[0]!, { exact: true }).waitFor();
    await event.getByText('backup-openai', { exact: true }).waitFor();
    await event.getByRole('button').click();
    // a creation: the object as recorded, field by field (its secret is not among them)
    const created = page.getByRole('table', { name: 'Fields of the object as created' });
    await created.getByRole('row', { name: 'name backup-openai' }).waitFor();
    await created.getByRole('row', { name: 'api_key_hint ...1111' }).waitFor();
    await noAxe(page, '/ui/audit (an event expanded)');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText(/Chain intact\. \d+ events verified/).waitFor();
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('admin: a request shows in the logs, the drawer has its tokens and cost, a model filter narrows the list', async () => {
    const listed = (await gw.api('GET', '/api/logs?model=gpt-4o-mini')).body.data[0];
    assert.ok(listed, 'the request was logged');
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/logs');
    await page.getByRole('heading', { name: 'Request logs', level: 1 }).waitFor();
    await settle(page);
    await page.getByRole('row').filter({ hasText: 'gpt-4o-mini' }).waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: /gpt-4o(?!-)/ }).count(), 1);
    // The key by its name, linked to its page (its id beside it); its team by name.
    const logRow = page.getByRole('row').filter({ hasText: 'gpt-4o-mini' });
    assert.equal(await logRow.getByRole('link', { name: 'ops-key' }).getAttribute('href'), `/ui/keys/${keyId}`);
    assert.equal(await logRow.getByRole('link', { name: 'Search' }).getAttribute('href'), `/ui/teams/${people.teamId}`);

    await page.getByRole('button', { name: /Details of the request .*gpt-4o-mini/ }).click();
    const drawer = page.getByRole('complementary', { name: 'Request details' });
    await drawer.getByText('Input tokens', { exact: true }).waitFor();
    await settle(page);
    const text = await drawer.innerText();
    // The drawer names the key and the person who owns it.
    assert.match(text, /Key\s+ops-key #\d+/);
    assert.match(text, new RegExp(`User\\s+${people.member.split('@')[0]} #\\d+`));
    assert.match(text, new RegExp(`Input tokens\\s+${listed.tokens_in}\\b`));
    assert.match(text, new RegExp(`Output tokens\\s+${listed.tokens_out}\\b`));
    assert.ok(listed.cost_usd > 0);
    assert.ok(text.includes(new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(listed.cost_usd)), `cost ${listed.cost_usd} in ${text}`);
    assert.match(page.url(), new RegExp(`request_id=${listed.request_id}`));
    await noAxe(page, '/ui/logs with the drawer open');
    // Escape closes it, and the keyboard is back on the row it was opened from.
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    assert.match((await page.evaluate('document.activeElement?.getAttribute("aria-label")')) as string, /Details of the request .*gpt-4o-mini/);

    await page.getByLabel('Model').fill('gpt-4o');
    await page.waitForURL(/model=gpt-4o(&|$)/);
    await settle(page);
    await page.getByRole('row').filter({ hasText: 'gpt-4o-mini' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: /Details of the request/ }).count(), 1);

    // The key page links here with ?key_id=: the filter is read from the URL.
    await page.goto(`/ui/logs?key_id=${keyId}`);
    await settle(page);
    assert.equal(await page.getByLabel('Key ID').inputValue(), String(keyId));
    assert.equal(await page.getByRole('button', { name: /Details of the request/ }).count(), 2);
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('member: a wrong current password is shown under that field; no organization settings', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.member, PASSWORD, '/ui/settings');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await settle(page);
    assert.equal(await page.getByRole('heading', { name: 'Limits and budget' }).count(), 0);
    await page.getByLabel('Current password').fill('not-my-password-at-all');
    await page.getByLabel('New password', { exact: true }).fill('another long passphrase 4711');
    await page.getByLabel('Repeat the new password').fill('another long passphrase 4711');
    await page.getByRole('button', { name: 'Change password' }).click();
    const current = page.getByLabel('Current password');
    // (a locator, not waitForFunction: the page's CSP refuses a string predicate)
    await current.and(page.locator('[aria-invalid="true"]')).waitFor();
    const describedBy = await current.getAttribute('aria-describedby');
    assert.ok(describedBy);
    assert.match(await page.locator(`#${describedBy}`).innerText(), /not this account's password/);
    await noAxe(page, '/ui/settings (member, with the error)');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('viewer: providers and settings without a single write button; admin settings pass axe; the logs page fits a phone', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.viewer, PASSWORD, '/ui/providers');
    await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
    await settle(page);
    await page.getByRole('row').filter({ hasText: 'openai' }).first().waitFor();
    for (const name of ['Add credential', /^Rotate/, /^Edit/, /^Delete/]) assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Limits and budget' }).waitFor();
    await settle(page);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await settle(page);
    assert.equal(await page.getByRole('button', { name: 'Verify chain' }).count(), 0, 'verifying the chain is for admins');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Limits and budget' }).waitFor();
    await settle(page);
    for (const name of ['Edit limits', 'Edit access rule']) assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
    await noAxe(page, '/ui/settings (viewer)');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();

    const admin = await openUi(browser, gw, { viewport: PHONE });
    await signInUi(admin, people.admin, PASSWORD, '/ui/settings');
    await admin.page.getByRole('button', { name: 'Edit limits' }).waitFor();
    await settle(admin.page);
    await noAxe(admin.page, '/ui/settings (admin, phone)');
    // The organization's budget, set from the page, is what the API then holds.
    await admin.page.getByRole('button', { name: 'Edit limits' }).click();
    const limits = admin.page.getByRole('dialog', { name: 'Organization limits and budget' });
    await limits.getByLabel('Budget (USD)').fill('5000');
    await limits.getByLabel('Requests per minute').fill('1200');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.waitFor({ state: 'hidden' });
    await admin.page.getByText('of $5,000.00').waitFor();
    const policy = (await gw.api('GET', '/api/orgs/current/limits')).body.policy;
    assert.equal(policy.max_budget_usd, 5000);
    assert.equal(policy.rpm, 1200);
    await admin.page.goto('/ui/logs');
    await settle(admin.page);
    const overflow = (await admin.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    assert.ok(overflow <= 1, `the logs page scrolls sideways by ${overflow}px on a phone`);
    assert.deepEqual(admin.problems, []);
    await admin.context.close();
  });
});
