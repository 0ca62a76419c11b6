// Who is signed in (GET /api/me), held in a signal every page reads. Role helpers answer the
// questions pages ask ("may I write?", "which teams do I own?"); the server decides every request
// anyway (auth/permissions.ts) — these only hide what would be refused.
import { signal, computed } from '@preact/signals';
import { api, type GetMeResponse } from './api/generated.ts';
import { ApiFailure, onUnauthorized } from './api/transport.ts';

export type Me = GetMeResponse;
export type MeTeam = Me['teams'][number];

/** undefined: not known yet; null: signed out */
export const me = signal<Me | null | undefined>(undefined);

export async function loadMe(): Promise<Me | null> {
  try {
    me.value = await api.getMe();
  } catch (err) {
    if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) me.value = null;
    else throw err;
  }
  return me.value ?? null;
}

onUnauthorized(() => {
  me.value = null;
});

export async function signOut(): Promise<void> {
  try {
    await api.postAuthLogout();
  } finally {
    me.value = null;
  }
}

// Typed by GET /api/me's response schema (people/me-view.ts), no casts.
const view = me;

/** org admin (or the master key) */
export const isAdmin = computed(() => view.value?.role === 'admin' || view.value?.superadmin === true);
/** org viewer: reads everything, changes nothing */
export const isViewer = computed(() => view.value?.role === 'viewer');
/** may change things at all (everyone but viewers; the server still decides per request) */
export const canWrite = computed(() => !!view.value && view.value.role !== 'viewer');
/** reads the whole organization (admins and viewers) */
export const readsOrg = computed(() => isAdmin.value || isViewer.value);
export const myTeams = computed<MeTeam[]>(() => view.value?.teams ?? []);
export const ownedTeamIds = computed(() => new Set(myTeams.value.filter((t) => t.role === 'owner').map((t) => t.id)));
export const myUserId = computed(() => view.value?.user?.id ?? null);
export const displayName = computed(() => view.value?.user?.name ?? view.value?.user?.email ?? (view.value?.superadmin ? 'Master key' : 'Management key'));

/** may manage team `id` (its keys, members, limits): admins, and the team's owners */
export const managesTeam = (id: number): boolean => isAdmin.value || ownedTeamIds.value.has(id);
