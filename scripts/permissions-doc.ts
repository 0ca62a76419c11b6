// `npm run docs:permissions`: regenerates the permission table and the route → action list in
// docs/people.md ("Roles and permissions") from src/auth/permissions.ts and the app's route table.
// The routes come from a real app, built on a throwaway in-memory SQLite database (never the
// environment's own: the configuration is given here, not read from the environment).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderPeopleDoc, type DocRoute } from '../src/auth/permissions-doc.ts';
import { withThrowawayApp } from './throwaway-app.ts';

export const PEOPLE_DOC = path.resolve(import.meta.dirname, '..', 'docs', 'people.md');

/** Every route the app registers (with its declared action), read from a freshly built app. */
export function appRoutes(): Promise<DocRoute[]> {
  return withThrowawayApp(async (app) => app.routeTable.map((r) => ({ method: r.method, url: r.url, action: r.action, public: r.public })));
}

/** docs/people.md as it should read. */
export async function expectedPeopleDoc(): Promise<{ current: string; expected: string }> {
  const current = readFileSync(PEOPLE_DOC, 'utf8');
  return { current, expected: renderPeopleDoc(current, await appRoutes()) };
}

if (import.meta.main) {
  const { current, expected } = await expectedPeopleDoc();
  if (current === expected) console.log('docs/people.md: the permission table and route list are up to date');
  else {
    writeFileSync(PEOPLE_DOC, expected);
    console.log('docs/people.md: permission table and route list regenerated');
  }
}
