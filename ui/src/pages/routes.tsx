// Model routes (/ui/routes): each public model name and the deployments that serve it, in fallback
// order — credential, upstream model, priority, weight, price — with the circuit breaker's state on
// the replica that answered. The catch-all "*" is a route like any other. Admins change; viewers read.
import { useState } from 'preact/hooks';
import { api, type GetRoutesResponse } from '../api/generated.ts';
import { Badge, Button, Card, Empty, PageHeader } from '../components/ui.tsx';
import { Table, type Column } from '../components/table.tsx';
import { confirmAction } from '../components/dialog.tsx';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { relative, dateTime, usd } from '../components/format.ts';
import { isAdmin, readsOrg } from '../session.ts';
import { RouteDialog } from './route-dialog.tsx';

export type Route = GetRoutesResponse['data'][number];
type Deployment = Route['deployments'][number];

const CIRCUIT: Record<Deployment['circuit'], { tone: 'good' | 'warn' | 'bad'; label: string }> = {
  closed: { tone: 'good', label: 'healthy' },
  half_open: { tone: 'warn', label: 'probing' },
  open: { tone: 'bad', label: 'out (failing)' },
};

function DeploymentLine({ d, catchAll }: { d: Deployment; catchAll: boolean }) {
  const c = CIRCUIT[d.circuit];
  const price = d.price ? `${usd(d.price.input_per_1m_usd)} / ${usd(d.price.output_per_1m_usd)} per 1M` : catchAll ? 'price book' : null;
  return (
    <li class="route-deployment">
      <strong>{d.credential_name}</strong> <span class="muted">({d.provider}{d.team_id !== null ? `, team ${d.team_id} only` : ''})</span>
      {d.upstream_model && <> → <span class="mono">{d.upstream_model}</span></>}
      <span class="route-meta">
        <span>priority {d.priority}</span> · <span>weight {d.weight}</span> · {price ?? <Badge tone="warn">unpriced</Badge>} · <Badge tone={c.tone}>{c.label}</Badge>
      </span>
    </li>
  );
}

export default function RoutesPage() {
  if (!readsOrg.value) {
    return (
      <>
        <PageHeader title="Routes" />
        <Card><Empty title="Model routes are managed by your organization's admins.">Ask an admin which models your keys can call.</Empty></Card>
      </>
    );
  }
  return <Routes />;
}

function Routes() {
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  const { data, error, loading, reload } = useApi((signal) => api.getRoutes({ options: { signal } }), [version]);
  const [dialog, setDialog] = useState<'create' | Route | null>(null);
  const admin = isAdmin.value;

  const remove = async (r: Route) => {
    const others = data?.data.some((x) => x.catch_all && x.id !== r.id);
    const ok = await confirmAction({
      title: `Delete the route ${r.model}?`,
      message: r.catch_all
        ? <p>Models no other route names then answer <span class="mono">model_not_found</span>.</p>
        : <p>{others ? <>Requests for <span class="mono">{r.model}</span> then go to the catch-all route. To stop serving it instead, edit the route and remove its deployments.</> : <>Requests for <span class="mono">{r.model}</span> then answer <span class="mono">model_not_found</span>.</>}</p>,
      confirmLabel: 'Delete route',
    });
    if (!ok) return;
    try {
      await api.deleteRoutesById({ path: { id: r.id } });
      toast(`Route ${r.model} deleted`);
      refresh();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };

  const columns: Array<Column<Route>> = [
    { label: 'Model', render: (r) => <span class="mono">{r.catch_all ? '* (every other model)' : r.model}</span> },
    {
      label: 'Deployments, in fallback order',
      render: (r) => (r.deployments.length === 0
        ? <Badge tone="bad">none: answers model_not_found</Badge>
        : <ol class="route-deployments">{r.deployments.map((d) => <DeploymentLine key={d.id} d={d} catchAll={r.catch_all} />)}</ol>),
    },
    { label: 'Timeout', wide: true, render: (r) => (r.timeout_ms === null ? 'default' : `${r.timeout_ms / 1000} s`) },
    { label: 'Retries', wide: true, numeric: true, render: (r) => r.retries ?? 0 },
    { label: 'Changed', wide: true, render: (r) => <span class="nowrap" title={dateTime(r.updated_at)}>{relative(r.updated_at)}</span> },
  ];
  if (admin) {
    columns.push({
      label: 'Actions',
      render: (r) => (
        <span class="ops-actions">
          <Button class="btn-small" onClick={() => setDialog(r)} aria-label={`Edit the route ${r.model}`}>Edit</Button>
          <Button class="btn-small" variant="danger" onClick={() => remove(r)} aria-label={`Delete the route ${r.model}`}>Delete</Button>
        </span>
      ),
    });
  }

  return (
    <>
      <PageHeader
        title="Routes"
        subtitle="Each model name clients ask for and the deployments that serve it. A deployment that fails (429, 5xx, timeout) before answering is retried, then the next one is tried; the client sees one answer."
        actions={admin && <Button variant="primary" onClick={() => setDialog('create')}>Create route</Button>}
      />
      <Card>
        <Table columns={columns} rows={data?.data} rowKey={(r) => r.id} loading={loading} error={error} onRetry={reload} empty="No routes yet: add a provider credential, then route models to it." caption="Model routes" />
        <p class="muted small">Circuit state is this replica's: a deployment that keeps failing is taken out for a while, then one request probes it back.</p>
      </Card>
      {admin && <RouteDialog route={dialog} onClose={() => setDialog(null)} onSaved={refresh} />}
    </>
  );
}
