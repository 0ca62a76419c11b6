// Providers / vault (/ui/providers): the organization's provider credentials — add, edit, rotate
// the secret, delete — and the models & prices they route. Admins change; viewers read (no write
// button at all). A secret is typed in once and never shown back: the list shows its last four
// characters.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Badge, Button, Card, Empty, PageHeader } from '../components/ui.tsx';
import { Table, type Column } from '../components/table.tsx';
import { confirmAction } from '../components/dialog.tsx';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { dateTime, relative } from '../components/format.ts';
import { isAdmin, readsOrg } from '../session.ts';
import { ProviderDialog, RotateDialog, type Credential } from './providers-dialogs.tsx';
import { ModelsAndPrices } from './providers-models.tsx';

export default function Providers() {
  // Reached by its address without the right (the navigation hides it): say so once, ask nothing.
  if (!readsOrg.value) {
    return (
      <>
        <PageHeader title="Providers" />
        <Card><Empty title="Provider credentials are managed by your organization's admins.">Ask an admin which models your keys can call.</Empty></Card>
      </>
    );
  }
  return <ProvidersPage />;
}

function ProvidersPage() {
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  const { data, error, loading, reload } = useApi((signal) => api.getProviders({ options: { signal } }), [version]);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Credential | undefined>();
  const [rotating, setRotating] = useState<Credential | undefined>();
  const admin = isAdmin.value;

  const remove = async (c: Credential) => {
    const routed = c.models.includes('*') ? 'every model no other credential names (the catch-all route)' : c.models.join(', ');
    const ok = await confirmAction({
      title: `Delete ${c.name}?`,
      message: <p>Its secret is destroyed and it stops serving these models: <strong>{routed}</strong>. Their routes stay: a model with no other deployment answers "model not found" (it never moves to the catch-all) until an admin routes it.</p>,
      confirmLabel: 'Delete credential',
    });
    if (!ok) return;
    try {
      await api.deleteProvidersById({ path: { id: c.id } });
      toast(`${c.name} deleted`);
      refresh();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };

  const columns: Array<Column<Credential>> = [
    { label: 'Name', render: (c) => <><strong>{c.name}</strong><span class="ops-sub mono">{c.base_url}</span></> },
    { label: 'Provider', wide: true, render: (c) => c.provider },
    { label: 'Models', render: (c) => <span class="ops-models">{c.models.map((m) => <Badge key={m} tone="info">{m === '*' ? '* all' : m}</Badge>)}</span> },
    { label: 'Secret', render: (c) => <span class="mono" aria-label={`secret ending ${c.api_key_hint}`}>{c.api_key_hint || '…'}</span> },
    { label: 'Updated', wide: true, render: (c) => <span class="nowrap" title={dateTime(c.updated_at)}>{relative(c.updated_at)}</span> },
  ];
  if (admin) {
    columns.push({
      label: 'Actions',
      render: (c) => (
        <span class="ops-actions">
          <Button class="btn-small" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>Edit</Button>
          <Button class="btn-small" onClick={() => setRotating(c)} aria-label={`Rotate the secret of ${c.name}`}>Rotate</Button>
          <Button class="btn-small" variant="danger" onClick={() => remove(c)} aria-label={`Delete ${c.name}`}>Delete</Button>
        </span>
      ),
    });
  }

  return (
    <>
      <PageHeader
        title="Providers"
        subtitle="The provider credentials Tollgate calls with, stored encrypted, and the models each serves."
        actions={admin && <Button variant="primary" onClick={() => setAdding(true)}>Add credential</Button>}
      />
      <Card title="Credentials">
        <Table columns={columns} rows={data?.data} rowKey={(c) => c.id} loading={loading} error={error} onRetry={reload} empty="No provider credentials yet." caption="Provider credentials" />
      </Card>
      <ModelsAndPrices version={version} />
      {admin && (
        <>
          <ProviderDialog open={adding || !!editing} credential={editing} onClose={() => { setAdding(false); setEditing(undefined); }} onSaved={refresh} />
          <RotateDialog credential={rotating} onClose={() => setRotating(undefined)} onSaved={refresh} />
        </>
      )}
    </>
  );
}
