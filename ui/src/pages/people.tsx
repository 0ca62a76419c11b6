// People (/ui/people): the organization's users and its invitations. Admins create, edit,
// deactivate and reactivate users and invite people; viewers (and team owners, who may list users
// to find people for their teams) read. The tab is in the URL (?tab=invitations).
import { useLocation } from 'preact-iso';
import { api } from '../api/generated.ts';
import { PageHeader, Tabs } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { PeopleUsers } from './people-users.tsx';
import { PeopleInvitations } from './people-invitations.tsx';

type Tab = 'users' | 'invitations';

/** the organization's teams (names for the filters and the forms) */
export function useTeamNames() {
  const teams = useApi((signal) => api.getTeams({ query: { limit: 1000 }, options: { signal } }), []);
  const list = teams.data?.data.map((t) => ({ id: t.id, name: t.name })) ?? [];
  return { teams: list, name: (id: number | null) => (id == null ? null : (list.find((t) => t.id === id)?.name ?? `team #${id}`)) };
}

export default function PeoplePage() {
  const { query, path, route } = useLocation();
  const tab: Tab = query.tab === 'invitations' ? 'invitations' : 'users';
  const teams = useTeamNames();
  return (
    <>
      <PageHeader title="People" subtitle="Who may sign in to this organization, their role, and who has been invited." />
      <Tabs label="People sections" value={tab} onChange={(t) => route(t === 'users' ? path : `${path}?tab=${t}`, true)} tabs={[{ id: 'users', label: 'Users' }, { id: 'invitations', label: 'Invitations' }]} />
      <div class="team-tab">{tab === 'users' ? <PeopleUsers teams={teams} /> : <PeopleInvitations teams={teams} />}</div>
    </>
  );
}
