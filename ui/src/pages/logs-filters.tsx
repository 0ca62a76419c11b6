// The request-log filters (GET /api/logs answers every one of them): team, key, user, model,
// status, error code and a time range. Text boxes settle for a moment before they change the URL.
import { useEffect, useState } from 'preact/hooks';
import { useDebounced } from '../components/use-api.ts';
import { Button } from '../components/ui.tsx';
import type { TeamName } from './logs-query.ts';

export const LOG_FILTERS = ['team_id', 'key_id', 'user_id', 'model', 'status', 'error_code', 'from', 'to'] as const;
export type LogFilterState = Record<(typeof LOG_FILTERS)[number], string>;

const STATUSES = [
  { value: '', label: 'Any status' },
  { value: '2xx', label: 'Succeeded (2xx)' },
  { value: '4xx', label: 'Refused (4xx)' },
  { value: '429', label: 'Rate or budget limited (429)' },
  { value: '5xx', label: 'Failed (5xx)' },
];

/** A text box whose value reaches `onSettled` once typing pauses; it follows the URL when that changes. */
function SettlingInput({ id, label, value, onSettled, placeholder, numeric }: { id: string; label: string; value: string; onSettled: (v: string) => void; placeholder?: string; numeric?: boolean }) {
  const [text, setText] = useState(value);
  const settled = useDebounced(text, 300);
  useEffect(() => { if (settled.trim() !== value) onSettled(settled.trim()); }, [settled]);
  useEffect(() => setText(value), [value]);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} type="text" inputMode={numeric ? 'numeric' : undefined} value={text} placeholder={placeholder} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
    </div>
  );
}

export function LogFilters({ value, onChange, teams, showUser }: { value: LogFilterState; onChange: (patch: Partial<LogFilterState>) => void; teams: TeamName[]; showUser: boolean }) {
  const teamKnown = value.team_id === '' || teams.some((t) => String(t.id) === value.team_id);
  const any = LOG_FILTERS.some((k) => value[k] !== '');
  return (
    <div class="toolbar ops-toolbar" role="search" aria-label="Filter request logs">
      <div class="field">
        <label for="logs-team">Team</label>
        <select id="logs-team" value={value.team_id} onChange={(e) => onChange({ team_id: (e.currentTarget as HTMLSelectElement).value })}>
          <option value="">All teams</option>
          {!teamKnown && <option value={value.team_id}>Team #{value.team_id}</option>}
          {teams.map((t) => <option key={t.id} value={String(t.id)}>{t.name}</option>)}
        </select>
      </div>
      <SettlingInput id="logs-model" label="Model" value={value.model} onSettled={(model) => onChange({ model })} placeholder="gpt-4o" />
      <div class="field">
        <label for="logs-status">Status</label>
        <select id="logs-status" value={value.status} onChange={(e) => onChange({ status: (e.currentTarget as HTMLSelectElement).value })}>
          {STATUSES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          {value.status && !STATUSES.some((s) => s.value === value.status) && <option value={value.status}>{value.status}</option>}
        </select>
      </div>
      <SettlingInput id="logs-error" label="Error code" value={value.error_code} onSettled={(error_code) => onChange({ error_code })} placeholder="budget_exceeded" />
      <SettlingInput id="logs-key" label="Key ID" value={value.key_id} onSettled={(key_id) => onChange({ key_id })} numeric />
      {showUser && <SettlingInput id="logs-user" label="User ID" value={value.user_id} onSettled={(user_id) => onChange({ user_id })} numeric />}
      <div class="field">
        <label for="logs-from">From</label>
        <input id="logs-from" type="datetime-local" value={value.from} onChange={(e) => onChange({ from: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <div class="field">
        <label for="logs-to">To</label>
        <input id="logs-to" type="datetime-local" value={value.to} onChange={(e) => onChange({ to: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      {any && <Button variant="ghost" onClick={() => onChange(Object.fromEntries(LOG_FILTERS.map((k) => [k, ''])) as LogFilterState)}>Clear filters</Button>}
    </div>
  );
}
