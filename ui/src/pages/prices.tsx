// The price book (/ui/prices): every price that applies to the organization — Tollgate's shipped
// book (with the provider's page and the day it was read), the operator's `pricing` configuration,
// and the organization's own prices set here, which win. A change prices the very next request on
// every replica. A model with no price is "unpriced": logged with no cost, never $0.
import { useMemo, useState } from 'preact/hooks';
import { api, type GetPricesResponse } from '../api/generated.ts';
import { Badge, Button, Card, Empty, PageHeader } from '../components/ui.tsx';
import { Table, type Column } from '../components/table.tsx';
import { confirmAction, Modal } from '../components/dialog.tsx';
import { Field, Form, numberOrUndefined, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';
import { useApi, useDebounced } from '../components/use-api.ts';
import { day, int, usd } from '../components/format.ts';
import { isAdmin, readsOrg } from '../session.ts';

type Price = GetPricesResponse['data'][number];
type SourceFilter = '' | Price['source'];

const SOURCES: Array<{ value: SourceFilter; label: string }> = [
  { value: '', label: 'Every source' },
  { value: 'organization', label: 'Set by this organization' },
  { value: 'config', label: 'Gateway configuration' },
  { value: 'shipped', label: 'Shipped price book' },
];
const SOURCE_BADGE: Record<Price['source'], { tone: 'info' | 'neutral' | 'good'; label: string }> = {
  organization: { tone: 'info', label: 'organization' },
  config: { tone: 'neutral', label: 'configuration' },
  shipped: { tone: 'good', label: 'shipped' },
};
const per1m = (v: number | null) => (v === null ? 'as input' : usd(v));

export default function PricesPage() {
  if (!readsOrg.value) {
    return (
      <>
        <PageHeader title="Prices" />
        <Card><Empty title="Prices are managed by your organization's admins." /></Card>
      </>
    );
  }
  return <Prices />;
}

function Prices() {
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  const { data, error, loading, reload } = useApi((signal) => api.getPrices({ options: { signal } }), [version]);
  const [q, setQ] = useState('');
  const [source, setSource] = useState<SourceFilter>('');
  const query = useDebounced(q.trim().toLowerCase(), 150);
  const [editing, setEditing] = useState<Price | 'new' | null>(null);
  const admin = isAdmin.value;
  // The whole book is a few hundred rows: filtered here, as typed.
  const rows = useMemo(() => (data?.data ?? []).filter((p) =>
    (source === '' || p.source === source) && (query === '' || p.model.toLowerCase().includes(query) || p.aliases.some((a) => a.toLowerCase().includes(query)) || (p.provider ?? '').toLowerCase().includes(query))), [data, query, source]);

  const remove = async (p: Price) => {
    const back = p.replaces ? `${SOURCE_BADGE[p.replaces.source].label} price (${usd(p.replaces.input_per_1m_usd)} in / ${usd(p.replaces.output_per_1m_usd)} out per 1M)` : 'no price: its requests are logged as unpriced';
    if (!(await confirmAction({ title: `Remove the organization's price for ${p.model}?`, message: <p>The next request is charged at the {back}.</p>, confirmLabel: 'Remove price' }))) return;
    try {
      await api.deletePricesByModel({ path: { model: p.model } });
      toast(`Price for ${p.model} removed`);
      refresh();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };

  const columns: Array<Column<Price>> = [
    { label: 'Model', render: (p) => <><span class="mono">{p.model}</span>{p.aliases.length > 0 && <span class="ops-sub">also {p.aliases.join(', ')}</span>}{p.note && <span class="ops-sub">{p.note}</span>}</> },
    { label: 'Provider', wide: true, render: (p) => p.provider ?? '—' },
    { label: 'Input / 1M', numeric: true, render: (p) => usd(p.input_per_1m_usd) },
    { label: 'Output / 1M', numeric: true, render: (p) => usd(p.output_per_1m_usd) },
    { label: 'Cached input / 1M', numeric: true, wide: true, render: (p) => per1m(p.cached_input_per_1m_usd) },
    { label: 'Max output', numeric: true, wide: true, render: (p) => (p.max_output_tokens === null ? '—' : int(p.max_output_tokens)) },
    {
      label: 'Source',
      render: (p) => (
        <span class="prices-source">
          <Badge tone={SOURCE_BADGE[p.source].tone}>{SOURCE_BADGE[p.source].label}</Badge>
          {p.as_of && <span class="muted small">{p.source_url ? <a href={p.source_url} rel="noreferrer noopener" target="_blank">as of {day(p.as_of)}</a> : `as of ${day(p.as_of)}`}</span>}
        </span>
      ),
    },
  ];
  if (admin) {
    columns.push({
      label: 'Actions',
      render: (p) => (
        <span class="ops-actions">
          <Button class="btn-small" onClick={() => setEditing(p)} aria-label={`${p.source === 'organization' ? 'Edit' : 'Override'} the price of ${p.model}`}>{p.source === 'organization' ? 'Edit' : 'Override'}</Button>
          {p.source === 'organization' && <Button class="btn-small" variant="danger" onClick={() => remove(p)} aria-label={`Remove the organization's price of ${p.model}`}>Remove</Button>}
        </span>
      ),
    });
  }

  return (
    <>
      <PageHeader
        title="Prices"
        subtitle={<>Per 1M tokens. The organization's prices win over the gateway's configuration, which wins over Tollgate's shipped book{data ? ` (compiled ${day(data.shipped_as_of)})` : ''}. A change applies to the next request on every replica.</>}
        actions={admin && <Button variant="primary" onClick={() => setEditing('new')}>Set a price</Button>}
      />
      <Card>
        <div class="toolbar ops-toolbar">
          <div class="field"><label for="prices-q">Search</label><input id="prices-q" type="search" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} placeholder="model or provider" /></div>
          <div class="field"><label for="prices-source">Source</label>
            <select id="prices-source" value={source} onChange={(e) => setSource((e.currentTarget as HTMLSelectElement).value as SourceFilter)}>
              {SOURCES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
            </select>
          </div>
        </div>
        <Table columns={columns} rows={data ? rows : undefined} rowKey={(p) => p.model} loading={loading} error={error} onRetry={reload} empty="No price matches." caption="Prices" />
      </Card>
      {admin && <PriceDialog price={editing} onClose={() => setEditing(null)} onSaved={refresh} />}
    </>
  );
}

function PriceDialog({ price, onClose, onSaved }: { price: Price | 'new' | null; onClose: () => void; onSaved: () => void }) {
  const p = price !== null && price !== 'new' ? price : undefined;
  return (
    <Modal title={p ? `Price of ${p.model}` : 'Set a price'} open={price !== null} onClose={onClose}>
      {price !== null && <PriceForm price={p} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function PriceForm({ price, onClose, onSaved }: { price?: Price; onClose: () => void; onSaved: () => void }) {
  const [model, setModel] = useState(price?.model ?? '');
  const [input, setInput] = useState(price ? String(price.input_per_1m_usd) : '');
  const [output, setOutput] = useState(price ? String(price.output_per_1m_usd) : '');
  const [cached, setCached] = useState(price?.cached_input_per_1m_usd != null ? String(price.cached_input_per_1m_usd) : '');
  const [maxOut, setMaxOut] = useState(price?.max_output_tokens != null ? String(price.max_output_tokens) : '');
  const [note, setNote] = useState(price?.source === 'organization' ? (price.note ?? '') : '');
  const submit = async () => {
    await api.putPricesByModel({
      path: { model: model.trim() },
      body: {
        input_per_1m_usd: numberOrUndefined(input) ?? Number.NaN,
        output_per_1m_usd: numberOrUndefined(output) ?? Number.NaN,
        cached_input_per_1m_usd: numberOrUndefined(cached) ?? null,
        max_output_tokens: numberOrUndefined(maxOut) ?? null,
        note: note.trim() || null,
      },
    });
    toast(`Price for ${model.trim()} saved`);
    onSaved();
    onClose();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save price" onCancel={onClose}>
      {!price && <Field name="model" label="Model" hint="As clients or routes name it (e.g. gpt-4o, openai/gpt-4o)."><TextInput name="model" value={model} onValue={setModel} /></Field>}
      {price && price.source !== 'organization' && <p class="muted">Saving sets this organization's own price; removing it later restores the {SOURCE_BADGE[price.source].label} price.</p>}
      <div class="form-grid">
        <Field name="input_per_1m_usd" label="Input, USD per 1M"><TextInput name="input_per_1m_usd" type="number" min={0} step="any" value={input} onValue={setInput} /></Field>
        <Field name="output_per_1m_usd" label="Output, USD per 1M"><TextInput name="output_per_1m_usd" type="number" min={0} step="any" value={output} onValue={setOutput} /></Field>
        <Field name="cached_input_per_1m_usd" label="Cached input, USD per 1M" hint="Empty: charged as input."><TextInput name="cached_input_per_1m_usd" type="number" min={0} step="any" value={cached} onValue={setCached} /></Field>
        <Field name="max_output_tokens" label="Max output tokens" hint="Bounds a budget reservation when a request sets none."><TextInput name="max_output_tokens" type="number" min={1} value={maxOut} onValue={setMaxOut} /></Field>
      </div>
      <Field name="note" label="Note"><TextInput name="note" value={note} onValue={setNote} placeholder="negotiated rate, contract 2026" /></Field>
    </Form>
  );
}
