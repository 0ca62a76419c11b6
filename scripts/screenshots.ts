// Screenshots of the dashboard for the README (docs/screenshots/*.png): a throwaway Tollgate on
// loopback filled by test/support/ui-seed.ts (six teams, twenty people, forty keys, a month of
// spend), Debian's Chromium driven by playwright-core, the main pages at 1280×800 as an admin,
// a member's overview (their allocation) and keys, and the overview on a phone. The key secret in key-created.png belongs
// to that throwaway gateway, which is deleted when the script ends: it is no live secret.
//
//   node scripts/screenshots.ts            (chromium at /usr/bin/chromium; ~40 s)
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchBrowser, navigate, openUi, PHONE, settle, signInUi, type UiPage } from '../test/support/browser.ts';
import { seedOrganization, startSeededGateway } from '../test/support/ui-seed.ts';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');
const SCREEN = { width: 1280, height: 800 };

mkdirSync(OUT, { recursive: true });
// No request leaves this script: the OpenAI credential may name the real service instead of the
// test suite's fake upstream on loopback, so the Providers page reads as it would in production.
const { gw, clock } = await startSeededGateway({ env: { OPENAI_BASE_URL: 'https://api.openai.com/v1' } });
const browser = await launchBrowser();
const shots: Array<{ file: string; bytes: number }> = [];
const problems: string[] = [];

/** Waits for the page's data, its charts and fonts, then saves the viewport. */
async function shoot(ui: UiPage, file: string): Promise<void> {
  await settle(ui.page);
  await ui.page.evaluate('document.fonts.ready');
  // the charts draw on the next frames after their data arrives
  await ui.page.waitForTimeout(300);
  const to = path.join(OUT, file);
  await ui.page.screenshot({ path: to });
  shots.push({ file, bytes: statSync(to).size });
  // words that would mean a broken page in a screenshot
  const text = await ui.page.locator('body').innerText();
  for (const bad of ['undefined', 'NaN', '[object Object]', 'Invalid Date']) if (text.includes(bad)) problems.push(`${file}: shows "${bad}"`);
  // a chart names its total in its accessible name: none may be empty
  for (const chart of await ui.page.getByRole('img').all()) {
    const name = (await chart.getAttribute('aria-label')) ?? '';
    if (/total \$0(\.0+)?\b/.test(name) || / 0 points/.test(name)) problems.push(`${file}: an empty chart (${name})`);
  }
  problems.push(...ui.problems.map((p) => `${file}: ${p}`));
  ui.problems.length = 0;
}

async function open(page: Page, p: string): Promise<void> {
  await navigate(page, p);
}

try {
  const seeded = await seedOrganization(gw, clock);
  console.log(`seeded: ${seeded.logRows} requests, $${seeded.spendUsd.toFixed(2)} over two months`);

  const admin = await openUi(browser, gw, { viewport: SCREEN });
  await signInUi(admin, seeded.admin, seeded.password, '/ui');
  const { page } = admin;
  await shoot(admin, 'overview.png');

  await open(page, '/ui/keys');
  await shoot(admin, 'keys.png');

  await open(page, `/ui/keys/${seeded.keys['answer-box-prod']!.id}`);
  await shoot(admin, 'key.png');

  await open(page, '/ui/teams');
  await shoot(admin, 'teams.png');

  await open(page, `/ui/teams/${seeded.teams['search']!.id}`);
  await shoot(admin, 'team.png');

  await open(page, '/ui/spend');
  await shoot(admin, 'spend.png');

  await open(page, '/ui/logs');
  await page.getByRole('button', { name: /Details of the request/ }).nth(2).click();
  await page.getByRole('complementary', { name: 'Request details' }).getByText(/\$\d/).first().waitFor();
  await shoot(admin, 'logs.png');

  await open(page, '/ui/providers');
  await shoot(admin, 'providers.png');

  await open(page, '/ui/audit');
  await shoot(admin, 'audit.png');

  await open(page, '/ui/people');
  await shoot(admin, 'people.png');

  // last: its toast would linger on the next pages
  await open(page, '/ui/keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a key' });
  await dialog.getByLabel('Team').selectOption({ label: 'Search Relevance' });
  await dialog.getByLabel('Name').fill('answer-box-canary');
  await dialog.getByLabel('Budget (USD)').fill('100');
  await dialog.getByLabel('Tags').fill('canary, prod');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('dialog', { name: 'Key created' }).getByText('you will not see this again').waitFor();
  await shoot(admin, 'key-created.png');
  await page.getByRole('dialog', { name: 'Key created' }).getByRole('button', { name: 'Done' }).click();

  await admin.context.close();

  const member = await openUi(browser, gw, { viewport: SCREEN });
  await signInUi(member, seeded.member, seeded.password, '/ui');
  await shoot(member, 'overview-member.png');
  await open(member.page, '/ui/keys');
  await shoot(member, 'my-keys.png');
  await member.context.close();

  const phone = await openUi(browser, gw, { viewport: PHONE });
  await signInUi(phone, seeded.admin, seeded.password, '/ui');
  await shoot(phone, 'overview-phone.png');
  await phone.context.close();

  for (const s of shots) console.log(`${s.file.padEnd(22)} ${(s.bytes / 1024).toFixed(0).padStart(4)} KB`);
  if (problems.length) {
    console.error(`\nproblems seen:\n${problems.join('\n')}`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  await gw.close();
}
