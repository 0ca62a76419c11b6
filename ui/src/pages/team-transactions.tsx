// The team's credit trail (seed 003: "every key provisioned and every credit allocation is
// recorded"): allocations set, members added and removed, keys created, capped, rotated and revoked,
// newest first, with the amount when there is one. For the team's owners and the organization's
// readers (GET /api/teams/{id}/transactions); the full record is the audit log.
import { useState } from 'preact/hooks';
import { api, type GetTeamsByIdTransactionsResponse } from '../api/generated.ts';
import { dateTime, usd } from '../components/format.ts';
import { Pager, Table } from '../components/table.tsx';
import { Card } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import type { Team } from './team-detail.tsx';

type Entry = GetTeamsByIdTransactionsResponse['data'][number];
const PAGE = 20;
const ACTIONS: Record<string, string> = {
  'allocation.set': 'Allocation set',
  'member.set': 'Member added or changed',
  'member.remove': 'Member removed',
  'key.create': 'Key created',
  'key.limits.set': 'Key limits set',
  'key.rotate': 'Key rotated',
  'key.revoke': 'Key revoked',
};

export function TeamTransactions({ team, names, version }: { team: Team; names: Map<number, string>; version: unknown }) {
  const [offset, setOffset] = useState(0);
  const list = useApi((signal) => api.getTeamsByIdTransactions({ path: { id: team.id }, query: { limit: PAGE, offset }, options: { signal } }), [team.id, offset, version]);
  const person = (id: number) => names.get(id) ?? `user #${id}`;
  const target = (e: Entry) => {
    const member = /^member:\d+:(\d+)$/.exec(e.target_id ?? '');
    if (member) return person(Number(member[1]));
    if (e.target_type === 'key' && e.target_id) return <a href={`/ui/keys/${e.target_id}`}>key #{e.target_id}</a>;
    return e.target_id ?? '—';
  };
  const actor = (e: Entry) => {
    if (e.actor_type === 'user' && e.actor_id) return person(Number(e.actor_id));
    if (e.actor_type === 'admin_key') return e.actor_id === 'master' ? 'the master key' : `management key #${e.actor_id ?? '?'}`;
    return `${e.actor_type.replace('_', ' ')}${e.actor_id ? ` ${e.actor_id}` : ''}`;
  };
  return (
    <Card title="Allocations and key provisioning">
      <Table
        caption={`Credit trail of ${team.name}`}
        rows={list.data?.data}
        rowKey={(e) => e.id}
        loading={list.loading}
        error={list.error}
        onRetry={list.reload}
        empty="Nothing recorded yet."
        columns={[
          { label: 'When', render: (e) => dateTime(e.at) },
          { label: 'What', render: (e) => ACTIONS[e.action] ?? e.action },
          { label: 'For', render: target },
          { label: 'Amount', numeric: true, render: (e) => (e.amount_usd == null ? '—' : usd(e.amount_usd)) },
          { label: 'By', wide: true, render: actor },
        ]}
      />
      <Pager page={offset / PAGE + 1} hasNext={(list.data?.data.length ?? 0) === PAGE} loading={list.loading} onNext={() => setOffset(offset + PAGE)} onPrev={() => setOffset(Math.max(0, offset - PAGE))} />
    </Card>
  );
}
