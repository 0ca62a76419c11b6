// What the request-log and audit pages share: filters kept in the URL query (a filtered list can
// be linked to — the key page links to /ui/logs?key_id=… — and survives a reload), team names for
// their team columns, and the conversion between a datetime-local box and the API's ISO instants.
import { useLocation } from 'preact-iso';
import { api } from '../api/generated.ts';
import { useApi } from '../components/use-api.ts';
import { myTeams, readsOrg } from '../session.ts';

/** The named query parameters of the page ('' when absent), and a setter that rewrites the URL. */
export function useQueryState<K extends string>(keys: readonly K[]): [Record<K, string>, (patch: Partial<Record<K, string>>) => void] {
  const { path, query, route } = useLocation();
  const value = Object.fromEntries(keys.map((k) => [k, query[k] ?? ''])) as Record<K, string>;
  const set = (patch: Partial<Record<K, string>>) => {
    const next = new URLSearchParams();
    for (const k of keys) {
      const v = k in patch ? patch[k] : value[k];
      if (v) next.set(k, v);
    }
    const s = next.toString();
    // replace: a filter change is not a step the back button should walk through one by one
    route(s ? `${path}?${s}` : path, true);
  };
  return [value, set];
}

export interface TeamName { id: number; name: string }

/** Team names: every team's for admins and viewers (the first 1,000), one's own otherwise. */
export function useTeamNames(): { teams: TeamName[]; name: (id: number | null) => string } {
  const wide = readsOrg.value;
  const all = useApi(async (signal) => (wide ? (await api.getTeams({ query: { limit: 1000 }, options: { signal } })).data.map((t) => ({ id: t.id, name: t.name })) : null), [wide]);
  const teams = wide ? all.data ?? [] : myTeams.value.map((t) => ({ id: t.id, name: t.name }));
  const byId = new Map(teams.map((t) => [t.id, t.name]));
  return { teams, name: (id) => (id === null ? '—' : byId.get(id) ?? `Team #${id}`) };
}

/** "2026-11-30T14:05" (a datetime-local box, the viewer's time zone) → ISO with offset; '' → undefined */
export function isoFromLocal(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** '' or a number in the URL → the API's number, or undefined */
export const idOrUndefined = (v: string): number | undefined => (/^[1-9]\d{0,9}$/.test(v) ? Number(v) : undefined);
