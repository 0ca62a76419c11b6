// The keys table: name (to the key's page), prefix (never the secret), team, owner, status, budget
// progress, spend this month, last use, expiry. Secondary columns hide on a phone.
import { Table, type Column } from '../components/table.tsx';
import { Empty, Progress, StatusBadge } from '../components/ui.tsx';
import { relative, usd, day } from '../components/format.ts';
import { myUserId } from '../session.ts';
import type { ListedKey } from './keys-data.ts';

const PERIOD: Record<string, string> = { monthly: '/ month', weekly: '/ week', daily: '/ day', total: 'in total' };

/** The owner as the listing names it (owner_name: GET /api/keys joins it in), a service account marked as one. */
function Owner({ k }: { k: ListedKey }) {
  if (k.service_account_id !== null) {
    return (
      <div>
        <div>{k.owner_name ?? `#${k.service_account_id}`}</div>
        <div class="small muted">service account</div>
      </div>
    );
  }
  if (k.user_id === null) return <span class="muted">—</span>;
  return <>{k.user_id === myUserId.value ? 'You' : k.owner_name ?? `User #${k.user_id}`}</>;
}

function Budget({ k }: { k: ListedKey }) {
  if (k.max_budget_usd === null) return <span class="muted">no budget</span>;
  // The listing's spend is this calendar month's: a progress bar only where that is the period.
  const monthly = k.budget_period === 'monthly';
  return (
    <div class="key-budget">
      {monthly && <Progress used={k.spend_this_month_usd} limit={k.max_budget_usd} label={`Budget of ${k.name} used`} />}
      <span class="small muted">{monthly ? `${usd(k.spend_this_month_usd)} of ${usd(k.max_budget_usd)}` : `${usd(k.max_budget_usd)} ${PERIOD[k.budget_period ?? ''] ?? ''}`}</span>
    </div>
  );
}

export function KeysTable({ rows, loading, error, onRetry, teamName, filtered }: { rows: ListedKey[] | undefined; loading: boolean; error: unknown; onRetry: () => void; teamName: (id: number | null) => string; filtered: boolean }) {
  const columns: Array<Column<ListedKey>> = [
    { label: 'Name', render: (k) => <a href={`/ui/keys/${k.id}`} class="key-name">{k.name}</a> },
    { label: 'Prefix', render: (k) => <span class="mono small">{k.key_prefix}</span>, wide: true },
    { label: 'Team', render: (k) => (k.team_id === null ? <span class="muted">—</span> : <a href={`/ui/teams/${k.team_id}`}>{teamName(k.team_id)}</a>), wide: true },
    { label: 'Owner', render: (k) => <Owner k={k} />, wide: true },
    { label: 'Status', render: (k) => <StatusBadge status={k.expires_at && Date.parse(k.expires_at) <= Date.now() && k.status === 'active' ? 'expired' : k.status} /> },
    { label: 'Budget', render: (k) => <Budget k={k} /> },
    { label: 'Spend (month)', render: (k) => usd(k.spend_this_month_usd), numeric: true },
    { label: 'Last used', render: (k) => (k.last_used_at ? <time dateTime={k.last_used_at} title={k.last_used_at}>{relative(k.last_used_at)}</time> : <span class="muted">never</span>), wide: true },
    { label: 'Expires', render: (k) => (k.expires_at ? day(k.expires_at) : <span class="muted">never</span>), wide: true },
  ];
  return (
    <Table
      caption="Keys"
      columns={columns}
      rows={rows}
      rowKey={(k) => k.id}
      loading={loading}
      error={error}
      onRetry={onRetry}
      empty={filtered ? <Empty title="No key matches these filters">Try another search or clear a filter.</Empty> : <Empty title="No keys yet">Create one to call models through Tollgate.</Empty>}
    />
  );
}
