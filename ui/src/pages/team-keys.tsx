// The team page's keys: the newest few of the keys the caller may see (a member: their own),
// compact, their owners by name; the keys page (/ui/keys?team_id=…) has the search, filters,
// paging and actions.
import { api } from '../api/generated.ts';
import { dateTime, relative } from '../components/format.ts';
import { Table } from '../components/table.tsx';
import { Card, StatusBadge } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { personLabel } from './team-common.tsx';
import type { Team } from './team-detail.tsx';

const SHOWN = 20;

export function TeamKeys({ team }: { team: Team }) {
  const keys = [...team.keys].sort((a, b) => b.id - a.id);
  // Owners' names: the team's members and service accounts (both readable by whoever reads the team).
  const owners = useApi(async (signal) => {
    const [members, accounts] = await Promise.all([
      api.getTeamsByIdMembers({ path: { id: team.id }, options: { signal } }),
      api.getTeamsByIdServiceAccounts({ path: { id: team.id }, options: { signal } }),
    ]);
    return { people: new Map(members.data.map((m) => [m.user_id, personLabel(m)])), accounts: new Map(accounts.data.map((a) => [a.id, a.name])) };
  }, [team.id]);
  const ownerOf = (k: Team['keys'][number]) => {
    if (k.service_account_id != null) return `${owners.data?.accounts.get(k.service_account_id) ?? `#${k.service_account_id}`} (service account)`;
    if (k.user_id != null) return owners.data?.people.get(k.user_id) ?? `user #${k.user_id}`;
    return 'the team';
  };
  const all = <a href={`/ui/keys?team_id=${team.id}`}>All keys of this team</a>;
  return (
    <Card title="Keys" actions={all}>
      <Table
        caption={`Keys of ${team.name}`}
        rows={keys.slice(0, SHOWN)}
        rowKey={(k) => k.id}
        empty="No keys in this team yet."
        columns={[
          { label: 'Name', render: (k) => <a href={`/ui/keys/${k.id}`}>{k.name}</a> },
          { label: 'Prefix', wide: true, render: (k) => <span class="mono">{k.key_prefix}…</span> },
          { label: 'Status', render: (k) => <StatusBadge status={k.status} /> },
          { label: 'Owner', wide: true, render: ownerOf },
          { label: 'Created', wide: true, render: (k) => dateTime(k.created_at) },
          { label: 'Last used', render: (k) => (k.last_used_at ? relative(k.last_used_at) : <span class="muted">never</span>) },
        ]}
      />
      {keys.length > SHOWN && <p class="muted">Showing the newest {SHOWN} of {keys.length}. <a href={`/ui/keys?team_id=${team.id}`}>See them all</a></p>}
    </Card>
  );
}
