// Request log listings at scale, for `npm run bench:scale`: what GET /api/logs runs (listLogs,
// without HTTP) on the loaded request_logs, for each scope and filter with a time range — first
// page, and a page deep in the range by cursor — and, on PostgreSQL, whether its plan is an index
// walk (no sequential scan, no sort). The loader's rows are all status 200: a status filter finds
// nothing and walks its whole range, the worst case of a filter checked on the rows.
import type { Db } from '../../src/db/connection.ts';
import { listLogs, logQuery, type LogFilter, type LogVisibility, type Scope } from '../../src/usage/logs.repository.ts';
import { summarize, type Summary } from './stats.ts';

export interface LogsShape {
  /** the loader's clock: logs span the `days` before it */
  at: number;
  days: number;
  /** a team of ~100 keys, the large team (10% of the keys), a key, a member */
  team: number;
  bigTeam: number;
  key: number;
  user: number;
}

export interface LogsResult { name: string; first: Summary; deep: Summary; rows: number; plan?: string }

const HOUR = 3_600_000;
const DAY = 86_400_000;

export async function measureLogs(db: Db, s: LogsShape, reps: number, say: (line: string) => void): Promise<LogsResult[]> {
  const since = (ms: number) => new Date(s.at - ms).toISOString();
  const org = { orgId: 1 };
  const cases: Array<{ name: string; filter: LogFilter; visibility?: LogVisibility }> = [
    { name: 'organization, no range', filter: org },
    { name: 'organization, last day', filter: { ...org, from: since(DAY) } },
    { name: 'team (~100 keys), last 7 days', filter: { ...org, teamId: s.team, from: since(7 * DAY) } },
    { name: 'large team (10% of keys), last 7 days', filter: { ...org, teamId: s.bigTeam, from: since(7 * DAY) } },
    { name: 'key, last 30 days', filter: { ...org, keyId: s.key, from: since(30 * DAY) } },
    { name: 'user, last 30 days', filter: { ...org, userId: s.user, from: since(30 * DAY) } },
    { name: 'model, last day', filter: { ...org, model: 'gpt-4o', from: since(DAY) } },
    { name: 'endpoint + model, last day', filter: { ...org, endpoint: 'chat/completions', model: 'gpt-4o', from: since(DAY) } },
    { name: 'team + status 2xx, last 7 days', filter: { ...org, teamId: s.team, status: { min: 200, max: 299 }, from: since(7 * DAY) } },
    { name: 'status 5xx (none), last hour', filter: { ...org, status: { min: 500, max: 599 }, from: since(HOUR) } },
    { name: 'status 5xx (none), last day', filter: { ...org, status: { min: 500, max: 599 }, from: since(DAY) } },
    { name: 'team owner (3 teams + own keys), last 7 days', filter: { ...org, from: since(7 * DAY) }, visibility: { teams: [s.team, s.team + 1, s.team + 2], userId: s.user } },
  ];
  const out: LogsResult[] = [];
  for (const c of cases) {
    const visibility = c.visibility ?? 'all';
    const time = async (position: Parameters<typeof listLogs>[3]) => {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        rows = (await listLogs(db.kysely, c.filter, visibility, position, 51)).length;
        times.push(performance.now() - t0);
        if (times[0]! > 1000 && i >= 2) break;
      }
      return { timing: summarize(times), rows };
    };
    const first = await time(undefined);
    // Deep: a cursor half-way through the range (or the loaded days), where a page costs the same.
    const from = c.filter.from ? Date.parse(c.filter.from) : s.at - s.days * DAY;
    const middle = { after: { createdAt: new Date((from + s.at) / 2).toISOString(), id: Number.MAX_SAFE_INTEGER } };
    const deep = await time(middle);
    let plan: string | undefined;
    if (db.dialect === 'postgres') {
      const scope: Scope = c.visibility && c.visibility !== 'all' ? { teamId: c.visibility.teams[0]! } : {};
      const rows = await logQuery(db.kysely, c.filter, scope, middle, 51).explain();
      const text = rows.map((r) => String(Object.values(r)[0])).join('\n');
      const index = /Index (Only )?Scan (Backward )?using (\w+)/.exec(text);
      plan = `${index ? `${index[2] ? 'backward ' : ''}walk of ${index[3]}` : 'NO INDEX WALK'}${/Seq Scan/.test(text) ? ', seq scan' : ''}${/\bSort\b(?! Key)/.test(text) ? ', sort' : ''}`;
    }
    out.push({ name: c.name, first: first.timing, deep: deep.timing, rows: first.rows, ...(plan ? { plan } : {}) });
    say(`    ${c.name}: first ${first.timing.p50.toFixed(2)} / ${first.timing.p99.toFixed(2)}, deep ${deep.timing.p50.toFixed(2)} / ${deep.timing.p99.toFixed(2)} (${first.rows} rows)${plan ? `; ${plan}` : ''}`);
  }
  return out;
}
