// Audit log (/ui/audit): who changed what, when and from where — newest first, filtered (action or
// action prefix like key.*, actor, target, team, time range; kept in the URL) and paged by cursor.
// Actors and targets read as names (the API resolves them; keys and teams link to their pages),
// with the recorded reference under each. A row expands to show the object before and after the change, field by field (secrets are
// redacted by the server before they are ever stored). Admins and viewers read the organization's
// trail, team owners their teams' events; the API decides.
import { useEffect, useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { api, type GetAuditResponse, type GetAuditVerifyResponse } from '../api/generated.ts';
import { Badge, Card, Details, Empty, ErrorNote, Loading, PageHeader } from '../components/ui.tsx';
import { Pager, useCursor } from '../components/table.tsx';
import { useApi, useDebounced } from '../components/use-api.ts';
import { dateTime, usd } from '../components/format.ts';
import { Button } from '../components/ui.tsx';
import { isAdmin, ownedTeamIds, readsOrg } from '../session.ts';
import { idOrUndefined, isoFromLocal, useQueryState, useTeamNames, type TeamName } from './logs-query.ts';

type AuditEvent = GetAuditResponse['data'][number];
const FILTERS = ['action', 'actor', 'target_type', 'target_id', 'team_id', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export default function Audit() {
  // Admins and viewers read the organization's trail, team owners their teams'; nobody else any.
  if (!readsOrg.value && ownedTeamIds.value.size === 0) {
    return (
      <>
        <PageHeader title="Audit log" />
        <Card><Empty title="The audit log is read by admins, viewers and team owners.">Every change to your keys is recorded there.</Empty></Card>
      </>
    );
  }
  return <AuditPage />;
}

function AuditPage() {
  const [q, setQ] = useQueryState(FILTERS);
  const { teams, name } = useTeamNames();
  const cursor = useCursor();
  const filterKey = FILTERS.map((k) => q[k]).join('\u0000');
  useEffect(() => cursor.reset(), [filterKey]);
  const { data, error, loading, reload } = useApi((signal) => api.getAudit({
    query: {
      action: q.action || undefined, actor: q.actor || undefined, target_type: q.target_type || undefined, target_id: q.target_id || undefined,
      team_id: idOrUndefined(q.team_id), from: isoFromLocal(q.from), to: isoFromLocal(q.to), cursor: cursor.cursor, limit: 50,
    },
    options: { signal },
  }), [filterKey, cursor.cursor]);
  const filtered = FILTERS.some((k) => q[k] !== '');
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change made through the API or this dashboard: who, what, when, from where. Append-only and hash-chained." actions={isAdmin.value && <VerifyButton />} />
      <VerifyResult />
      <Card>
        <AuditFilters value={q} onChange={setQ} teams={teams} />
        {error && !data ? <ErrorNote error={error} onRetry={reload} /> : !data ? <Loading /> : (
          <div class={`table-wrap ${loading ? 'is-loading' : ''}`} aria-busy={loading ? 'true' : undefined}>
            <ErrorNote error={error} onRetry={reload} />
            <table class="table">
              <caption class="sr-only">Audit events</caption>
              <thead>
                <tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col" class="wide">Team</th><th scope="col" class="wide">Source IP</th></tr>
              </thead>
              <tbody>{data.data.map((e) => <EventRow key={e.id} event={e} teamName={name} />)}</tbody>
            </table>
            {data.data.length === 0 && !loading && <Empty title={filtered ? 'No event matches these filters.' : 'No events yet.'} />}
          </div>
        )}
        <Pager page={cursor.page} hasNext={!!data?.next_cursor} loading={loading} onNext={() => data?.next_cursor && cursor.next(data.next_cursor)} onPrev={cursor.prev} />
      </Card>
    </>
  );
}

// The verification's outcome outlives the button's render (shown under the header until the page is left).
const verification = signal<GetAuditVerifyResponse | Error | null>(null);

/** Walks the organization's whole chain (GET /api/audit/verify, admins): deleted, inserted or edited events. */
function VerifyButton() {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      verification.value = await api.getAuditVerify();
    } catch (err) {
      verification.value = err instanceof Error ? err : new Error(String(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => () => { verification.value = null; }, []);
  return <Button onClick={run} busy={busy}>Verify chain</Button>;
}

function VerifyResult() {
  const v = verification.value;
  if (!v) return null;
  if (v instanceof Error) return <ErrorNote error={v} />;
  if (v.ok) {
    return <p class="alert alert-info" role="status"><span><strong>Chain intact.</strong> {v.events} events verified; the head is <span class="mono">{v.head?.slice(0, 16)}…</span></span></p>;
  }
  return (
    <div class="alert alert-error" role="alert">
      <span><strong>Chain broken{v.event_id !== null ? ` at event #${v.event_id}` : ' at its head'}</strong> ({v.problem}): {v.detail}. {v.events} events before it verified.</span>
    </div>
  );
}

function EventRow({ event: e, teamName }: { event: AuditEvent; teamName: (id: number | null) => string }) {
  const [open, setOpen] = useState(false);
  const id = `audit-${e.id}`;
  return (
    <>
      <tr>
        <td>
          <button type="button" class="link-btn nowrap" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
            <span aria-hidden="true">{open ? '▾' : '▸'}</span> {dateTime(e.at)}
          </button>
        </td>
        <td><Actor event={e} /></td>
        <td><Badge tone={e.action.includes('delete') || e.action.includes('revoke') || e.action.endsWith('failed') ? 'bad' : 'info'}>{e.action}</Badge></td>
        <td><Target event={e} /></td>
        <td class="wide">{e.team_id === null ? '—' : teamName(e.team_id)}</td>
        <td class="wide mono">{e.source_ip ?? '—'}</td>
      </tr>
      {open && (
        <tr id={id} class="audit-detail">
          <td colSpan={6}>
            <Changes before={e.before} after={e.after} />
            <Details items={[
              ['Amount', e.amount_usd === null ? '—' : usd(e.amount_usd)],
              ['User agent', e.user_agent ?? '—'],
              ['Event', `#${e.id}`],
              ['Hash', <span class="mono ops-wrap">{e.hash ?? '—'}</span>],
            ]} />
          </td>
        </tr>
      )}
    </>
  );
}

/** Who acted, by name ("Ada Lovelace", "ci-deployer", "Master key"), with the recorded reference (user:2) under it. */
function Actor({ event: e }: { event: AuditEvent }) {
  if (!e.actor_name) return <span class="mono">{e.actor}</span>;
  return <><span title={e.actor}>{e.actor_name}</span><span class="ops-sub mono">{e.actor}</span></>;
}

/** The page of a key or team target: its id is the event's target id, or a policy scope's (key:40, team:3). */
function targetPage(e: AuditEvent): string | null {
  const m = /^(?:(key|team):)?([1-9]\d*)$/.exec(e.target_id ?? '');
  if (!m || (m[1] !== undefined && m[1] !== e.target_type)) return null;
  return e.target_type === 'key' ? `/ui/keys/${m[2]}` : e.target_type === 'team' ? `/ui/teams/${m[2]}` : null;
}

/** What was acted on: its name (a link for keys and teams), with its type and id under it. */
function Target({ event: e }: { event: AuditEvent }) {
  const ref = <>{e.target_type}{e.target_id !== null && <span class="mono"> {e.target_id}</span>}</>;
  if (!e.target_name) return ref;
  const page = targetPage(e);
  const title = `${e.target_type} ${e.target_id ?? ''}`.trim();
  return <>{page ? <a href={page} title={title}>{e.target_name}</a> : <span title={title}>{e.target_name}</span>}<span class="ops-sub">{ref}</span></>;
}

const show = (v: unknown): string => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Before and after, one field a line; changed fields say so in words, not only in color. */
function Changes({ before, after }: { before: unknown; after: unknown }) {
  if (before == null && after == null) return <p class="muted">No object recorded for this event.</p>;
  if (!isRecord(before) && !isRecord(after)) {
    return <Details items={[['Before', show(before ?? undefined)], ['After', show(after ?? undefined)]]} />;
  }
  // A creation has no "before": the object as recorded, field by field.
  if (before == null && isRecord(after)) {
    return (
      <table class="table audit-changes">
        <caption class="sr-only">Fields of the object as created</caption>
        <thead><tr><th scope="col">Field</th><th scope="col">Value</th></tr></thead>
        <tbody>{Object.entries(after).map(([f, v]) => <tr key={f}><th scope="row" class="mono">{f}</th><td class="mono ops-wrap">{show(v)}</td></tr>)}</tbody>
      </table>
    );
  }
  const b = isRecord(before) ? before : {};
  const a = isRecord(after) ? after : {};
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return (
    <table class="table audit-changes">
      <caption class="sr-only">Fields before and after the change</caption>
      <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th><th scope="col"><span class="sr-only">Changed</span></th></tr></thead>
      <tbody>
        {fields.map((f) => {
          const was = before == null ? undefined : b[f];
          const now = after == null ? undefined : a[f];
          const changed = JSON.stringify(was) !== JSON.stringify(now);
          return (
            <tr key={f} class={changed ? 'audit-changed' : ''}>
              <th scope="row" class="mono">{f}</th>
              <td class="mono ops-wrap">{show(was)}</td>
              <td class="mono ops-wrap">{show(now)}</td>
              <td>{changed && <Badge tone="warn">changed</Badge>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function AuditFilters({ value, onChange, teams }: { value: Filters; onChange: (patch: Partial<Filters>) => void; teams: TeamName[] }) {
  const [draft, setDraft] = useState({ action: value.action, actor: value.actor, target_type: value.target_type, target_id: value.target_id });
  const settled = useDebounced(draft, 300);
  useEffect(() => {
    const patch = Object.fromEntries(Object.entries(settled).filter(([k, v]) => v.trim() !== value[k as keyof Filters]).map(([k, v]) => [k, v.trim()]));
    if (Object.keys(patch).length) onChange(patch);
  }, [settled]);
  // A link or the back button changed the URL: the boxes follow it.
  useEffect(() => setDraft({ action: value.action, actor: value.actor, target_type: value.target_type, target_id: value.target_id }), [value.action, value.actor, value.target_type, value.target_id]);
  const text = (k: keyof typeof draft, label: string, placeholder: string) => (
    <div class="field">
      <label for={`audit-${k}`}>{label}</label>
      <input id={`audit-${k}`} type="text" value={draft[k]} placeholder={placeholder} onInput={(e) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value })} />
    </div>
  );
  const teamKnown = value.team_id === '' || teams.some((t) => String(t.id) === value.team_id);
  return (
    <div class="toolbar ops-toolbar" role="search" aria-label="Filter audit events">
      {text('action', 'Action', 'key.* or provider.create')}
      {text('actor', 'Actor', 'user:5')}
      {text('target_type', 'Target type', 'key')}
      {text('target_id', 'Target ID', '42')}
      <div class="field">
        <label for="audit-team">Team</label>
        <select id="audit-team" value={value.team_id} onChange={(e) => onChange({ team_id: (e.currentTarget as HTMLSelectElement).value })}>
          <option value="">All teams</option>
          {!teamKnown && <option value={value.team_id}>Team #{value.team_id}</option>}
          {teams.map((t) => <option key={t.id} value={String(t.id)}>{t.name}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="audit-from">From</label>
        <input id="audit-from" type="datetime-local" value={value.from} onChange={(e) => onChange({ from: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <div class="field">
        <label for="audit-to">To</label>
        <input id="audit-to" type="datetime-local" value={value.to} onChange={(e) => onChange({ to: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      {FILTERS.some((k) => value[k] !== '') && <Button variant="ghost" onClick={() => onChange(Object.fromEntries(FILTERS.map((k) => [k, ''])) as Filters)}>Clear filters</Button>}
    </div>
  );
}
