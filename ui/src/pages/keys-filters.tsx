// The keys page's filters, all answered by the server (GET /api/keys: q, team_id, status, tag,
// sort; user_id / service_account_id when a link sets them). They live in the URL query, so a
// filtered list can be linked to (the team page links to ?team_id=…) and survives a reload. The
// search box and the tag box settle for a moment (SETTLE_MS) before they ask.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Button } from '../components/ui.tsx';
import type { TeamName } from './keys-data.ts';
import { SETTLE_MS } from './keys-settle.ts';

export interface FilterState {
  q: string;
  team_id: string;
  status: string;
  tag: string;
  sort: string;
  user_id: string;
  service_account_id: string;
}
export const FILTER_KEYS = ['q', 'team_id', 'status', 'tag', 'sort', 'user_id', 'service_account_id'] as const;

const STATUSES = [
  { value: '', label: 'Live (active and disabled)' },
  { value: 'active', label: 'Active' },
  { value: 'disabled', label: 'Disabled' },
  { value: 'revoked', label: 'Revoked' },
  { value: 'active,disabled,revoked', label: 'All' },
];
const SORTS = [
  { value: '', label: 'Oldest first' },
  { value: '-created_at', label: 'Newest first' },
  { value: '-last_used_at', label: 'Recently used' },
  { value: 'expires_at', label: 'Expiring soonest' },
  { value: '-spend', label: 'Top spend this month' },
];


export function KeysFilters({ value, onChange, teams, teamRequired }: { value: FilterState; onChange: (patch: Partial<FilterState>) => void; teams: TeamName[]; teamRequired: boolean }) {
  const [q, setQ] = useState(value.q);
  const [tag, setTag] = useState(value.tag);
  // A timer started by the keystroke itself (not a debounced value and an effect): each effect
  // waits for a frame, and this path is what a search costs the person (bench/ui-keys-search.ts).
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const pending = useRef<Partial<FilterState>>({});
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => () => clearTimeout(timer.current), []);
  const settle = (patch: Partial<FilterState>) => {
    pending.current = { ...pending.current, ...patch };
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const p = pending.current;
      pending.current = {};
      latest.current(p);
    }, SETTLE_MS);
  };
  // A link or the back button changed the URL: the boxes follow it.
  useEffect(() => setQ(value.q), [value.q]);
  useEffect(() => setTag(value.tag), [value.tag]);
  const teamKnown = value.team_id === '' || teams.some((t) => String(t.id) === value.team_id);
  return (
    <div class="toolbar keys-toolbar" role="search" aria-label="Filter keys">
      <div class="field keys-search">
        <label for="keys-q">Search keys</label>
        <input id="keys-q" type="search" value={q} placeholder="Name, prefix or description" onInput={(e) => { const v = (e.currentTarget as HTMLInputElement).value; setQ(v); settle({ q: v }); }} />
      </div>
      <div class="field">
        <label for="keys-team">Team</label>
        <select id="keys-team" value={value.team_id} onChange={(e) => onChange({ team_id: (e.currentTarget as HTMLSelectElement).value })}>
          {!teamRequired && <option value="">All teams</option>}
          {!teamKnown && <option value={value.team_id}>Team #{value.team_id}</option>}
          {teams.map((t) => <option key={t.id} value={String(t.id)}>{t.name}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="keys-status">Status</label>
        <select id="keys-status" value={value.status} onChange={(e) => onChange({ status: (e.currentTarget as HTMLSelectElement).value })}>
          {STATUSES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="keys-tag">Tag</label>
        <input id="keys-tag" type="text" value={tag} placeholder="prod" onInput={(e) => { const v = (e.currentTarget as HTMLInputElement).value; setTag(v); settle({ tag: v }); }} />
      </div>
      <div class="field">
        <label for="keys-sort">Sort</label>
        <select id="keys-sort" value={value.sort} onChange={(e) => onChange({ sort: (e.currentTarget as HTMLSelectElement).value })}>
          {SORTS.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
        </select>
      </div>
      {(value.user_id || value.service_account_id) && (
        <Button variant="ghost" class="btn-small" onClick={() => onChange({ user_id: '', service_account_id: '' })}>
          Owner: {value.user_id ? `user #${value.user_id}` : `service account #${value.service_account_id}`} ×<span class="sr-only"> (clear)</span>
        </Button>
      )}
    </div>
  );
}
