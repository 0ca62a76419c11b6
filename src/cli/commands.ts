// The API subcommands as data: each `noun verb` names its options and the one request it makes.
// Field names follow the API's (docs/api.md) with dashes: --external-id → external_id.
// `--body '{"…": …}'` adds any other field of the request body, for what has no option here.
import type { Query } from './api-client.ts';
import { usage } from './api-client.ts';

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean };
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Request {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: Record<string, unknown>;
}

export interface Command {
  summary: string;
  /** the positional argument (an id), if the command takes one */
  arg?: 'id';
  options: Record<string, OptionSpec>;
  build(v: Values, id: string | undefined, stdin: () => Promise<string>): Promise<Request> | Request;
  /** how --all follows pages: `next_after` → after, `next_cursor` → cursor, or by offset */
  paging?: 'after' | 'cursor' | 'offset';
  /** columns of --table */
  columns: string[];
}

const str = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;

const s = (v: Values, name: string): string | undefined => (typeof v[name] === 'string' ? (v[name] as string) : undefined);

/** An integer option (ids, limits): a usage error otherwise, before any request. */
function int(v: Values, name: string): number | undefined {
  const raw = s(v, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw usage(`--${name} must be a whole number (got "${raw}")`);
  return Number(raw);
}

function num(v: Values, name: string): number | undefined {
  const raw = s(v, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw usage(`--${name} must be a number (got "${raw}")`);
  return n;
}

function required(v: Values, name: string): string {
  const value = s(v, name);
  if (value === undefined) throw usage(`--${name} is required`);
  return value;
}

/** `--body` JSON merged under the options (an option given explicitly wins). */
function body(v: Values, fields: Record<string, unknown>): Record<string, unknown> {
  let extra: Record<string, unknown> = {};
  const raw = s(v, 'body');
  if (raw !== undefined) {
    try {
      extra = JSON.parse(raw);
    } catch (err) {
      throw usage(`--body is not JSON: ${(err as Error).message}`);
    }
    if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw usage('--body must be a JSON object');
  }
  const out: Record<string, unknown> = { ...extra };
  for (const [k, value] of Object.entries(fields)) if (value !== undefined) out[k] = value;
  return out;
}

function need(id: string | undefined, what: string): string {
  if (id === undefined) throw usage(`which ${what}? give its id`);
  if (!/^\d+$/.test(id)) throw usage(`a ${what} id is a whole number (got "${id}")`);
  return id;
}

/** `--password-stdin`: the first line of standard input (a password never goes in argv either). */
async function password(v: Values, stdin: () => Promise<string>): Promise<string | undefined> {
  if (v['password-stdin'] !== true) return undefined;
  const line = (await stdin()).split(/\r?\n/)[0] ?? '';
  if (!line) throw usage('--password-stdin: standard input is empty');
  return line;
}

const USER_COLUMNS = ['id', 'external_id', 'email', 'name', 'role', 'status'];
const TEAM_COLUMNS = ['id', 'slug', 'name', 'description'];
const KEY_COLUMNS = ['id', 'key_prefix', 'name', 'team_id', 'user_id', 'status', 'expires_at'];
const MKEY_COLUMNS = ['id', 'key_prefix', 'name', 'role', 'scope', 'team_id', 'status', 'expires_at', 'last_used_at'];

export const COMMANDS: Record<string, Record<string, Command>> = {
  users: {
    list: {
      summary: 'list users (filters: --external-id, --email, --q, --team, --role, --status)',
      options: { 'external-id': str, email: str, q: str, team: str, role: str, status: str, limit: str, after: str },
      build: (v) => ({ method: 'GET', path: '/api/users', query: { external_id: s(v, 'external-id'), email: s(v, 'email'), q: s(v, 'q'), team_id: int(v, 'team'), role: s(v, 'role'), status: s(v, 'status'), limit: int(v, 'limit'), after: int(v, 'after') } }),
      paging: 'after',
      columns: USER_COLUMNS,
    },
    get: { summary: 'one user, with their teams', arg: 'id', options: {}, build: (_v, id) => ({ method: 'GET', path: `/api/users/${need(id, 'user')}` }), columns: USER_COLUMNS },
    create: {
      summary: 'create a user: --external-id X [--email --name --role --team --team-role --password-stdin]',
      options: { 'external-id': str, email: str, name: str, role: str, team: str, 'team-role': str, 'password-stdin': flag, body: str },
      build: async (v, _id, stdin) => ({
        method: 'POST', path: '/api/users',
        body: body(v, { external_id: required(v, 'external-id'), email: s(v, 'email'), name: s(v, 'name'), role: s(v, 'role'), team_id: int(v, 'team'), team_role: s(v, 'team-role'), password: await password(v, stdin) }),
      }),
      columns: USER_COLUMNS,
    },
    update: {
      summary: 'change a user: ID [--external-id --email --name --role]',
      arg: 'id',
      options: { 'external-id': str, email: str, name: str, role: str, body: str },
      build: (v, id) => ({ method: 'PATCH', path: `/api/users/${need(id, 'user')}`, body: body(v, { external_id: s(v, 'external-id'), email: s(v, 'email'), name: s(v, 'name'), role: s(v, 'role') }) }),
      columns: USER_COLUMNS,
    },
    deactivate: { summary: 'offboard a user: ends their sessions, disables the keys they own', arg: 'id', options: {}, build: (_v, id) => ({ method: 'POST', path: `/api/users/${need(id, 'user')}/deactivate` }), columns: [...USER_COLUMNS, 'disabled_key_ids'] },
    reactivate: { summary: 'let a deactivated user sign in again (their keys stay disabled)', arg: 'id', options: {}, build: (_v, id) => ({ method: 'POST', path: `/api/users/${need(id, 'user')}/reactivate` }), columns: USER_COLUMNS },
  },
  teams: {
    list: { summary: 'list teams', options: { limit: str, offset: str }, build: (v) => ({ method: 'GET', path: '/api/teams', query: { limit: int(v, 'limit'), offset: int(v, 'offset') } }), paging: 'offset', columns: TEAM_COLUMNS },
    get: { summary: 'one team, with its keys', arg: 'id', options: {}, build: (_v, id) => ({ method: 'GET', path: `/api/teams/${need(id, 'team')}` }), columns: TEAM_COLUMNS },
    create: {
      summary: 'create a team: --name N [--slug --description]',
      options: { name: str, slug: str, description: str, body: str },
      build: (v) => ({ method: 'POST', path: '/api/teams', body: body(v, { name: required(v, 'name'), slug: s(v, 'slug'), description: s(v, 'description') }) }),
      columns: TEAM_COLUMNS,
    },
  },
  keys: {
    list: {
      summary: 'list API keys (filters: --team, --user, --service-account, --status, --q, --tag)',
      options: { team: str, user: str, 'service-account': str, status: str, q: str, tag: str, sort: str, limit: str, cursor: str },
      build: (v) => ({ method: 'GET', path: '/api/keys', query: { team_id: int(v, 'team'), user_id: int(v, 'user'), service_account_id: int(v, 'service-account'), status: s(v, 'status'), q: s(v, 'q'), tag: s(v, 'tag'), sort: s(v, 'sort'), limit: int(v, 'limit'), cursor: s(v, 'cursor') } }),
      paging: 'cursor',
      columns: KEY_COLUMNS,
    },
    get: { summary: 'one API key', arg: 'id', options: {}, build: (_v, id) => ({ method: 'GET', path: `/api/keys/${need(id, 'key')}` }), columns: KEY_COLUMNS },
    create: {
      summary: 'create an API key: --name N [--team --user --service-account --expires-at --description --max-budget-usd]; prints the secret once',
      options: { name: str, team: str, user: str, 'service-account': str, 'expires-at': str, description: str, 'max-budget-usd': str, body: str },
      build: (v) => ({
        method: 'POST', path: '/api/keys',
        body: body(v, { name: required(v, 'name'), team_id: int(v, 'team'), user_id: int(v, 'user'), service_account_id: int(v, 'service-account'), expires_at: s(v, 'expires-at'), description: s(v, 'description'), max_budget_usd: num(v, 'max-budget-usd') }),
      }),
      columns: [...KEY_COLUMNS, 'key'],
    },
    rotate: {
      summary: 'rotate an API key: ID [--grace-period-seconds N]; prints the new secret once',
      arg: 'id',
      options: { 'grace-period-seconds': str },
      build: (v, id) => ({ method: 'POST', path: `/api/keys/${need(id, 'key')}/rotate`, body: body(v, { grace_period_seconds: int(v, 'grace-period-seconds') }) }),
      columns: [...KEY_COLUMNS, 'key'],
    },
    revoke: { summary: 'revoke an API key at once', arg: 'id', options: {}, build: (_v, id) => ({ method: 'DELETE', path: `/api/keys/${need(id, 'key')}` }), columns: KEY_COLUMNS },
  },
  'management-keys': {
    list: {
      summary: 'list management keys (filters: --team, --role, --created-by, --include-revoked)',
      options: { team: str, role: str, 'created-by': str, 'include-revoked': flag, limit: str, after: str },
      build: (v) => ({ method: 'GET', path: '/api/management-keys', query: { team_id: int(v, 'team'), role: s(v, 'role'), created_by: s(v, 'created-by'), include_revoked: v['include-revoked'] === true ? 'true' : undefined, limit: int(v, 'limit'), after: int(v, 'after') } }),
      paging: 'after',
      columns: MKEY_COLUMNS,
    },
    create: {
      summary: 'create a management key: --name N --role R [--team --expires-at --description]; prints the secret once',
      options: { name: str, role: str, team: str, 'expires-at': str, description: str, body: str },
      build: (v) => ({ method: 'POST', path: '/api/management-keys', body: body(v, { name: required(v, 'name'), role: required(v, 'role'), team_id: int(v, 'team'), expires_at: s(v, 'expires-at'), description: s(v, 'description') }) }),
      columns: [...MKEY_COLUMNS, 'key'],
    },
    rotate: { summary: 'new secret for a management key (the old one stops at once)', arg: 'id', options: {}, build: (_v, id) => ({ method: 'POST', path: `/api/management-keys/${need(id, 'management key')}/rotate` }), columns: [...MKEY_COLUMNS, 'key'] },
    revoke: { summary: 'revoke a management key at once', arg: 'id', options: {}, build: (_v, id) => ({ method: 'DELETE', path: `/api/management-keys/${need(id, 'management key')}` }), columns: MKEY_COLUMNS },
  },
};
