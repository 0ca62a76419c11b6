// Models & prices (GET /api/models): each routed model, the credential serving it and its price
// per 1M tokens. Routes are edited on /ui/routes, prices on /ui/prices.
import { api, type GetModelsResponse } from '../api/generated.ts';
import { Card, Badge } from '../components/ui.tsx';
import { Table, type Column } from '../components/table.tsx';
import { useApi } from '../components/use-api.ts';
import { usd } from '../components/format.ts';

type Route = GetModelsResponse['data'][number];

const per1m = (v: number | null | undefined) => (v == null ? '—' : usd(v));

const routeColumns: Array<Column<Route>> = [
  { label: 'Model', render: (r) => <span class="mono">{r.model === '*' ? '* (every other model)' : r.model}</span> },
  { label: 'Credential', render: (r) => r.credential_name },
  { label: 'Upstream model', wide: true, render: (r) => <span class="mono">{r.upstream_model ?? r.model}</span> },
  { label: 'Input / 1M', numeric: true, render: (r) => (r.price ? per1m(r.price.input_per_1m_usd) : r.model === '*' ? 'price book' : <Badge tone="warn">unpriced</Badge>) },
  { label: 'Output / 1M', numeric: true, render: (r) => (r.price ? per1m(r.price.output_per_1m_usd) : '—') },
  { label: 'Cached input / 1M', numeric: true, wide: true, render: (r) => (!r.price ? '—' : r.price.cached_input_per_1m_usd == null ? 'as input' : per1m(r.price.cached_input_per_1m_usd)) },
  { label: 'Price from', wide: true, render: (r) => (r.price ? (r.price.source === 'route' ? 'route' : 'price book') : '—') },
];

export function ModelsAndPrices({ version }: { version: number }) {
  const { data, error, loading, reload } = useApi((signal) => api.getModels({ options: { signal } }), [version]);
  return (
    <>
      <Card title="Models & routes">
        <p class="muted">Which credential serves each model a client may ask for, and what a request costs. An unpriced model's requests are logged with no cost. Fallbacks, weights and timeouts are set on <a href="/ui/routes">Routes</a>; prices on <a href="/ui/prices">Prices</a>.</p>
        <Table columns={routeColumns} rows={data?.data} rowKey={(r) => `${r.credential_id}:${r.model}`} loading={loading} error={error} onRetry={reload} empty="No routes: add a provider credential." caption="Models and routes" />
      </Card>
    </>
  );
}
