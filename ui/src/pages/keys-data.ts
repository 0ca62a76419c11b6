// What the keys pages share: the row type (from the API's own document), team names, who owns a
// key, and what the signed-in person may do with it. These only hide buttons the API would refuse
// (auth/permissions.ts: team owners and admins manage a team's keys; an owner of a key may rotate
// and revoke it).
import { api, type GetKeysResponse, type GetKeysQuery } from '../api/generated.ts';
import { useApi } from '../components/use-api.ts';
import { isAdmin, isViewer, managesTeam, myTeams, myUserId } from '../session.ts';

export type ListedKey = GetKeysResponse['data'][number];
/** any key view (listed, read, created) has these */
export type AnyKey = Pick<ListedKey, 'id' | 'name' | 'status' | 'team_id' | 'user_id' | 'service_account_id' | 'key_prefix'>;
export type KeyFilters = Pick<GetKeysQuery, 'q' | 'team_id' | 'user_id' | 'service_account_id' | 'status' | 'tag' | 'sort'>;

export interface TeamName { id: number; name: string }

/**
 * The teams the person can pick from or see names of: everyone's for admins and viewers (the
 * first 500, by id: the filter also takes ?team_id= for any other; a page of 1,000 teams is
 * refused on SQLite today: loadPolicies ORs one condition per team, too deep), their own otherwise.
 */
export function useTeams(): { teams: TeamName[]; name: (id: number | null) => string } {
  const wide = isAdmin.value || isViewer.value;
  const all = useApi(async (signal) => {
    if (!wide) return null;
    const r = (await api.getTeams({ query: { limit: 500 }, options: { signal } })) as { data?: TeamName[] };
    return r.data ?? [];
  }, [wide]);
  const teams = wide ? all.data ?? [] : myTeams.value.map((t) => ({ id: t.id, name: t.name }));
  const byId = new Map(teams.map((t) => [t.id, t.name]));
  return { teams, name: (id) => (id === null ? 'No team' : byId.get(id) ?? `Team #${id}`) };
}

/**
 * People's names by id, for a key's page (GET /api/keys/{id} does not name its owner; the listing
 * does, owner_name): the organization's first 1,000 people, for those who read the organization
 * (GET /api/users); anyone else is named by id.
 */
export function usePeopleNames(): Map<number, string> {
  const wide = isAdmin.value || isViewer.value;
  const people = useApi(async (signal) => (wide ? (await api.getUsers({ query: { limit: 1000 }, options: { signal } })).data : []), [wide]);
  return new Map((people.data ?? []).map((u) => [u.id, u.name ?? u.email ?? u.external_id]));
}

export function ownerLabel(k: AnyKey, names?: Map<number, string>): string {
  if (k.service_account_id !== null) return `Service account #${k.service_account_id}`;
  if (k.user_id !== null && k.user_id === myUserId.value) return 'You';
  return k.user_id !== null ? names?.get(k.user_id) ?? `User #${k.user_id}` : '—';
}

/** edit, disable / enable: admins, and the owners of the key's team */
export const canManage = (k: AnyKey): boolean => !isViewer.value && (k.team_id === null ? isAdmin.value : managesTeam(k.team_id));
/** rotate, revoke: those, and the person who owns the key */
export const canRotate = (k: AnyKey): boolean => !isViewer.value && (canManage(k) || (k.user_id !== null && k.user_id === myUserId.value));

export const GRACE_CHOICES: Array<{ value: string; label: string }> = [
  { value: '0', label: 'None: the old secret stops now' },
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '7 days' },
];

/** "2026-12-31" (a date input) → the end of that day in the viewer's time zone, ISO */
export function endOfDay(date: string): string | null {
  if (!date) return null;
  const d = new Date(`${date}T23:59:59`);
  return Number.isNaN(d.getTime()) ? date : d.toISOString();
}

/** an ISO instant → "YYYY-MM-DD" for a date input (local time) */
export function dateInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
