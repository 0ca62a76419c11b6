// The team page's keys: the newest few of the keys the caller may see (a member: their own),
// compact; the keys page (/ui/keys?team_id=…) has the search, filters, paging and actions.
import { dateTime, relative } from '../components/format.ts';
import { Table } from '../components/table.tsx';
import { Card, StatusBadge } from '../components/ui.tsx';
import type { Team } from './team-detail.tsx';

const SHOWN = 20;

export function TeamKeys({ team }: { team: Team }) {
  const keys = [...team.keys].sort((a, b) => b.id - a.id);
  const all = (
    <a href={`/ui/keys?team_id=${team.id}`}>All keys of this team</a>
  );
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
          { label: 'Owner', wide: true, render: (k) => (k.service_account_id != null ? `service account #${k.service_account_id}` : k.user_id != null ? `user #${k.user_id}` : 'team') },
          { label: 'Created', wide: true, render: (k) => dateTime(k.created_at) },
          { label: 'Last used', render: (k) => (k.last_used_at ? relative(k.last_used_at) : <span class="muted">never</span>) },
        ]}
      />
      {keys.length > SHOWN && <p class="muted">Showing the newest {SHOWN} of {keys.length}. <a href={`/ui/keys?team_id=${team.id}`}>See them all</a></p>}
    </Card>
  );
}
