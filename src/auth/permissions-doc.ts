// The permission table as markdown, for docs/people.md ("Roles and permissions"). Each cell is
// decide() asked about a typical caller, so the document shows what the code decides, not a
// second reading of the grant flags. scripts/permissions-doc.ts writes it between marker
// comments; test/permissions-doc.test.ts fails when the document and the table differ.
import type { Actor, OrgRole, TeamRole } from '../http/actor.ts';
import { decide, PERMISSIONS, type Action, type Target } from './permissions.ts';

const TEAM = 1;
const ME = 7;
const SOMEONE = 8;

function caller(role: OrgRole, opts: { superadmin?: boolean; team?: TeamRole } = {}): Actor {
  return {
    type: 'user', id: String(ME), orgId: 1, role, userId: ME, superadmin: opts.superadmin ?? false, ip: null,
    teams: new Map(opts.team ? [[TEAM, opts.team]] : []),
  };
}

/** The columns: who is asking, and about what (someone else's object in team 1, or their own). */
const COLUMNS: Array<{ title: string; actor: Actor; target: Target }> = [
  { title: 'Master key', actor: caller('admin', { superadmin: true }), target: { teamId: TEAM, userId: SOMEONE } },
  { title: 'Org admin', actor: caller('admin'), target: { teamId: TEAM, userId: SOMEONE } },
  { title: 'Viewer', actor: caller('viewer'), target: { teamId: TEAM, userId: SOMEONE } },
  { title: 'Member', actor: caller('member'), target: { teamId: TEAM, userId: SOMEONE } },
  { title: 'Team member', actor: caller('member', { team: 'member' }), target: { teamId: TEAM, userId: SOMEONE } },
  { title: 'Team owner', actor: caller('member', { team: 'owner' }), target: { teamId: TEAM, userId: SOMEONE } },
  { title: 'Own object', actor: caller('member'), target: { teamId: TEAM, userId: ME } },
];

const YES = '✓';
const NO = '—';

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** One row per action of src/auth/permissions.ts, in its order. */
export function permissionTable(): string {
  const lines = [row(['Action', ...COLUMNS.map((c) => c.title)]), row(['---', ...COLUMNS.map(() => ':---:')])];
  for (const action of Object.keys(PERMISSIONS) as Action[]) {
    lines.push(row([`\`${action}\``, ...COLUMNS.map((c) => (decide(c.actor, action, c.target) ? YES : NO))]));
  }
  return lines.join('\n');
}

export interface DocRoute {
  method: string;
  url: string;
  action?: string;
  public?: boolean;
}

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Every /api route and the action it authorizes (or "public"), sorted by path then method. */
export function routeList(routes: DocRoute[]): string {
  const api = routes.filter((r) => r.url.startsWith('/api/'));
  const sorted = [...api].sort((a, b) => a.url.localeCompare(b.url) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
  const lines = [row(['Route', 'Action']), row(['---', '---'])];
  for (const r of sorted) lines.push(row([`\`${r.method} ${r.url}\``, r.public ? 'public (no credential)' : `\`${r.action ?? '(none)'}\``]));
  return lines.join('\n');
}

/** `doc` with the text between `<!-- name:start -->` and `<!-- name:end -->` replaced by `content`. */
export function spliceBlock(doc: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1 || to < from) throw new Error(`the document has no ${start} … ${end} block`);
  return `${doc.slice(0, from + start.length)}\n${content}\n${doc.slice(to)}`;
}

/** The generated blocks of docs/people.md: the permission table and the route list. */
export function renderPeopleDoc(doc: string, routes: DocRoute[]): string {
  return spliceBlock(spliceBlock(doc, 'permissions:table', permissionTable()), 'permissions:routes', routeList(routes));
}
