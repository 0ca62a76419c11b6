// A key's last few requests (GET /api/logs?key_id=…), and the way to all of them in the request
// log page, filtered to this key.
import { api, type GetLogsResponse } from '../api/generated.ts';
import { Table } from '../components/table.tsx';
import { Badge, Card } from '../components/ui.tsx';
import { int, relative, usd } from '../components/format.ts';
import { useApi } from '../components/use-api.ts';

type Row = GetLogsResponse['data'][number];

export function KeyRequests({ keyId, version }: { keyId: number; version: number }) {
  const logs = useApi((signal) => api.getLogs({ query: { key_id: keyId, limit: 5 }, options: { signal } }), [keyId, version]);
  return (
    <Card title="Recent requests" actions={<a href={`/ui/logs?key_id=${keyId}`}>All of this key's requests →</a>}>
      <Table<Row>
        caption="Recent requests of this key"
        rows={logs.data?.data}
        loading={logs.loading}
        error={logs.error}
        onRetry={logs.reload}
        rowKey={(r) => r.id}
        empty="No request with this key yet"
        columns={[
          { label: 'When', render: (r) => <time dateTime={r.created_at} title={r.created_at}>{relative(r.created_at)}</time> },
          { label: 'Model', render: (r) => r.model },
          { label: 'Status', render: (r) => <Badge tone={r.status_code < 400 ? 'good' : 'bad'}>{r.status_code}</Badge> },
          { label: 'Tokens', render: (r) => int(r.tokens_in + r.tokens_out), numeric: true, wide: true },
          { label: 'Cost', render: (r) => (r.cost_usd === null ? '—' : usd(r.cost_usd)), numeric: true },
          { label: 'Latency', render: (r) => `${int(r.latency_ms)} ms`, numeric: true, wide: true },
        ]}
      />
    </Card>
  );
}
