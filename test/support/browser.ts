// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real
// Tollgate (startGateway) serving the bundle `npm test` built into dist/ui. Helpers to sign in as a
// person, collect what the page complains about (script errors, CSP refusals), and run axe-core.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Gateway } from './gateway.ts';
import { servicesRequired } from './services.ts';
import { userWithPassword } from './people.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** For describe(…, { skip }): never skips where services are required (CI), so it fails instead. */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM) || servicesRequired()) return false;
  return `chromium not installed at ${CHROMIUM} (apt-get install -y chromium)`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

export interface UiPage {
  page: Page;
  context: BrowserContext;
  /** console errors, uncaught exceptions and CSP refusals seen so far (failed loads of 4xx API answers are expected and left out) */
  problems: string[];
}

/** A fresh browser context (its own cookies) and page at `gw`'s /ui. */
export async function openUi(browser: Browser, gw: Gateway, opts: { viewport?: { width: number; height: number } } = {}): Promise<UiPage> {
  const context = await browser.newContext({ viewport: opts.viewport ?? DESKTOP, baseURL: gw.url, permissions: ['clipboard-read', 'clipboard-write'] });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    problems.push(text);
  });
  return { page, context, problems };
}

/** Signs in through the sign-in page (as a person would) and waits for the app's navigation. */
export async function signInUi(ui: UiPage, email: string, password: string, path = '/ui'): Promise<void> {
  const { page } = ui;
  await page.goto(`/ui/sign-in?next=${encodeURIComponent(path)}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // attached, not visible: on a phone the navigation is folded behind the menu button
  await page.locator('nav.sidebar').waitFor({ state: 'attached' });
}

export const PASSWORD = 'correct-horse-battery-staple';

export interface People { teamId: number; otherTeamId: number; admin: string; owner: string; member: string; other: string; viewer: string }

/**
 * Two teams and five people with PASSWORD: an org admin, the first team's owner and two members
 * (`member`, `other`), and an org viewer. Returns their emails.
 */
export async function seedPeople(gw: Gateway): Promise<People> {
  const team = await gw.api('POST', '/api/teams', { name: 'Search' });
  const otherTeam = await gw.api('POST', '/api/teams', { name: 'Payments' });
  if (team.status !== 201 || otherTeam.status !== 201) throw new Error(`teams: ${team.status} ${otherTeam.status}`);
  const p: People = { teamId: team.body.id, otherTeamId: otherTeam.body.id, admin: 'ada@example.com', owner: 'owen@example.com', member: 'mia@example.com', other: 'max@example.com', viewer: 'vera@example.com' };
  await userWithPassword(gw, p.admin, PASSWORD, { role: 'admin' });
  await userWithPassword(gw, p.owner, PASSWORD, { teams: { [p.teamId]: 'owner' } });
  await userWithPassword(gw, p.member, PASSWORD, { teams: { [p.teamId]: 'member' } });
  await userWithPassword(gw, p.other, PASSWORD, { teams: { [p.teamId]: 'member' } });
  await userWithPassword(gw, p.viewer, PASSWORD, { role: 'viewer' });
  return p;
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: string[] }

/**
 * axe-core's serious and critical violations on the page as it is now. Evaluated through the
 * DevTools protocol, not a <script> tag: the page's CSP (rightly) refuses inline scripts.
 */
/** Fails with the violations when axe-core finds a serious or critical one on the page. */
export async function noAxe(page: Page, where: string): Promise<void> {
  const v = await axeViolations(page);
  assert.deepEqual(v, [], `${where}: ${JSON.stringify(v, null, 1)}`);
}

export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // once per document: pages reached by the app's own navigation keep it
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(`${axeSource};0`);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Goes to `path` (under gw's /ui) and waits until the page has drawn: its h1 is there and nothing
 * on it still says it is loading (a spinner, a busy button).
 */
export async function visit(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await settle(page);
}

/**
 * Goes to `path` through the app's own router (no page load: faster, and what a click on a link
 * does), then waits as visit() does. The h1 of the page left behind is marked, so the wait is
 * for the new page's.
 */
export async function navigate(page: Page, path: string): Promise<void> {
  await page.evaluate(`(() => {
    const to = new URL(${JSON.stringify(path)}, location.href);
    if (location.pathname + location.search === to.pathname + to.search) return;
    // the same page with another query keeps its h1 as it is
    if (location.pathname !== to.pathname) for (const h of document.querySelectorAll('h1')) {
      h.setAttribute('data-left', '');
      // two pages of one route may keep the element: a new title unmarks it
      new MutationObserver((_, seen) => { h.removeAttribute('data-left'); seen.disconnect(); }).observe(h, { childList: true, characterData: true, subtree: true });
    }
    history.pushState(null, '', ${JSON.stringify(path)});
    dispatchEvent(new PopStateEvent('popstate'));
  })()`);
  // a locator, not waitForFunction (see settle())
  await page.locator('h1:not([data-left])').first().waitFor();
  await settle(page);
}

/** Waits until the page shows its h1 and no loading indicator (after a click that loads something). */
export async function settle(page: Page): Promise<void> {
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  // A locator, not waitForFunction: a string predicate is compiled in the page with `new Function`,
  // which the dashboard's CSP (no 'unsafe-eval') refuses whenever it has to poll more than once.
  // Every busy part, not just the first: a page's tables may start loading one after another (a
  // team page's members, keys, limits), and a faded loading table fails axe's contrast check. Quiet
  // for two checks in a row, within 10 s.
  const busy = page.locator('.loading, [aria-busy="true"]');
  const until = Date.now() + 10_000;
  for (let quiet = 0; quiet < 2 && Date.now() < until;) {
    if ((await busy.count()) === 0) quiet++;
    else {
      quiet = 0;
      await busy.first().waitFor({ state: 'detached', timeout: Math.max(1, until - Date.now()) }).catch(() => {});
    }
    await page.waitForTimeout(50);
  }
}

/** What is wrong with the security headers of a /ui answer (document or asset); [] when nothing. */
export function uiHeaderProblems(url: string, headers: Record<string, string>): string[] {
  const out: string[] = [];
  const csp = headers['content-security-policy'] ?? '';
  const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1];
  if (!scriptSrc) out.push(`${url}: no CSP script-src`);
  else if (/unsafe-inline|unsafe-eval/.test(scriptSrc)) out.push(`${url}: script-src allows ${scriptSrc}`);
  if (!/frame-ancestors 'none'/.test(csp)) out.push(`${url}: no frame-ancestors 'none'`);
  if (headers['x-content-type-options'] !== 'nosniff') out.push(`${url}: no X-Content-Type-Options: nosniff`);
  return out;
}
