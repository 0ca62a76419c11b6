// The routes and prices pages in a real browser (issue 13): an admin creates a route with a primary
// and a fallback deployment and sees them in fallback order with their circuit state; a bad weight
// is shown under that deployment's field; an admin overrides a shipped price and the very next
// request is charged at it, then removes it after confirming and the shipped price is back; a
// viewer reads both pages without a write button. axe-core finds no serious or critical violation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startGateway, type Gateway } from './support/gateway.ts';
import { browserSkip, launchBrowser, openUi, PASSWORD, seedPeople, settle, signInUi, type People, noAxe } from './support/browser.ts';

describe('routes and prices pages in the browser (sqlite)', { skip: browserSkip() }, () => {
  let gw: Gateway;
  let browser: Browser;
  let people: People;
  before(async () => {
    [gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
    people = await seedPeople(gw);
    const backup = await gw.api('POST', '/api/providers', { name: 'backup-openai', provider: 'openai', base_url: gw.fake.baseUrl + '/v1', api_key: 'sk-ui-routing-backup-0001', models: ['backup-only'] });
    assert.equal(backup.status, 201, JSON.stringify(backup.body));
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('admin: create a route with a fallback; a bad weight is shown under its field', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/routes');
    await page.getByRole('heading', { name: 'Routes', level: 1 }).waitFor();
    await settle(page);
    const providers = (await gw.api('GET', '/api/providers')).body.data as Array<{ id: number; name: string }>;
    const primary = providers.find((p) => p.name !== 'backup-openai')!;

    await page.getByRole('button', { name: 'Create route' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a route' });
    await dialog.getByLabel('Model name').fill('ui-fallback-model');
    const first = dialog.getByRole('group', { name: 'Deployment 1' });
    await first.getByLabel('Credential').selectOption(String(primary.id));
    await first.getByLabel('Upstream model').fill('gpt-4o');
    await first.getByLabel('Priority').fill('1');
    await dialog.getByRole('button', { name: 'Add deployment' }).click();
    const second = dialog.getByRole('group', { name: 'Deployment 2' });
    await second.getByLabel('Credential').selectOption({ label: 'backup-openai (openai)' });
    await second.getByLabel('Upstream model').fill('gpt-4o-mini');
    await second.getByLabel('Weight').fill('0');
    await noAxe(page, 'the route dialog');
    await dialog.getByRole('button', { name: 'Create route' }).click();
    const weight = second.getByLabel('Weight');
    await second.getByRole('alert').waitFor();
    assert.equal(await weight.getAttribute('aria-invalid'), 'true', 'the error belongs to the second deployment\'s weight');
    await weight.fill('2');
    await dialog.getByRole('button', { name: 'Create route' }).click();

    const row = page.getByRole('table', { name: 'Model routes' }).getByRole('row').filter({ hasText: 'ui-fallback-model' });
    await row.waitFor();
    const items = await row.getByRole('listitem').allInnerTexts();
    assert.equal(items.length, 2);
    assert.match(items[0]!, /gpt-4o\b[\s\S]*priority 1[\s\S]*healthy/, 'the primary first');
    assert.match(items[1]!, /backup-openai[\s\S]*gpt-4o-mini[\s\S]*weight 2/, 'then the fallback');
    const route = ((await gw.api('GET', '/api/routes')).body.data as Array<{ model: string; deployments: unknown[] }>).find((r) => r.model === 'ui-fallback-model');
    assert.equal(route?.deployments.length, 2, 'saved through the API');
    await noAxe(page, '/ui/routes');
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('admin: override a shipped price; the next request is charged at it; removing it restores the shipped price', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.admin, PASSWORD, '/ui/prices');
    await page.getByRole('heading', { name: 'Prices', level: 1 }).waitFor();
    await page.getByLabel('Search').fill('gpt-4o-mini');
    const table = page.getByRole('table', { name: 'Prices' });
    const row = table.getByRole('row').filter({ has: page.getByText('gpt-4o-mini', { exact: true }) });
    await row.getByText('shipped').waitFor();
    await noAxe(page, '/ui/prices');
    await row.getByRole('button', { name: 'Override the price of gpt-4o-mini' }).click();
    const dialog = page.getByRole('dialog', { name: 'Price of gpt-4o-mini' });
    await dialog.getByLabel('Input, USD per 1M', { exact: true }).fill('1000');
    await dialog.getByLabel('Output, USD per 1M').fill('2000');
    await dialog.getByRole('button', { name: 'Save price' }).click();
    await row.getByText('organization').waitFor();

    const key = await gw.api('POST', `/api/teams/${people.teamId}/keys`, { name: 'priced' });
    const answer = await gw.openai(key.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'price me' }] });
    const u = answer.usage!;
    await gw.flush();
    const logs = await gw.api('GET', `/api/logs?key_id=${key.body.id}`);
    // $1000 / $2000 per 1M tokens: 1000 and 2000 micro-USD per token
    const cost = (u.prompt_tokens * 1000 + u.completion_tokens * 2000) / 1_000_000;
    assert.equal(logs.body.data[0].cost_usd, cost, 'charged at the organization\'s price');

    await row.getByRole('button', { name: "Remove the organization's price of gpt-4o-mini" }).click();
    await page.getByRole('dialog', { name: /Remove the organization's price/ }).getByRole('button', { name: 'Remove price' }).click();
    await row.getByText('shipped').waitFor();
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });

  test('a viewer reads routes and prices without a write button', async () => {
    const ui = await openUi(browser, gw);
    const { page } = ui;
    await signInUi(ui, people.viewer, PASSWORD, '/ui/routes');
    await page.getByRole('table', { name: 'Model routes' }).getByRole('row').nth(1).waitFor();
    assert.equal(await page.getByRole('button', { name: /Create route|Edit the route|Delete the route/ }).count(), 0);
    await page.goto(`${gw.url}/ui/prices`);
    await page.getByRole('table', { name: 'Prices' }).getByRole('row').nth(1).waitFor();
    assert.equal(await page.getByRole('button', { name: /Set a price|Override the price|Edit the price|Remove the organization/ }).count(), 0);
    assert.deepEqual(ui.problems, []);
    await ui.context.close();
  });
});
