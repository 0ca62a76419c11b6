// Create or edit a model route: its name (on create), timeout, retries and deployments (each a
// credential, upstream model, priority, weight and optional own price). Saving replaces the
// deployments as a whole; the API's error lands under the deployment field it names
// (`deployments[1].credential_id`, matched as deployments.1.credential_id).
import { useState } from 'preact/hooks';
import { api, type PostRoutesBody } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, numberOrUndefined, Select, TextInput } from '../components/form.tsx';
import { Button } from '../components/ui.tsx';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import type { Route } from './routes.tsx';

interface Draft { credential: string; upstream: string; priority: string; weight: string; input: string; output: string }

const blank = (credential = ''): Draft => ({ credential, upstream: '', priority: '0', weight: '1', input: '', output: '' });

export function RouteDialog({ route, onClose, onSaved }: { route: 'create' | Route | null; onClose: () => void; onSaved: () => void }) {
  const editing = route !== null && route !== 'create' ? route : undefined;
  return (
    <Modal title={editing ? `Edit the route ${editing.model}` : 'Create a route'} open={route !== null} onClose={onClose} wide>
      {route !== null && <RouteForm route={editing} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function RouteForm({ route, onClose, onSaved }: { route?: Route; onClose: () => void; onSaved: () => void }) {
  const credentials = useApi((signal) => api.getProviders({ options: { signal } }), []);
  const [model, setModel] = useState(route?.model ?? '');
  const [timeout, setTimeoutS] = useState(route?.timeout_ms != null ? String(route.timeout_ms / 1000) : '');
  const [retries, setRetries] = useState(route?.retries != null ? String(route.retries) : '');
  const [rows, setRows] = useState<Draft[]>(() => route
    ? route.deployments.map((d) => ({
        credential: String(d.credential_id), upstream: d.upstream_model ?? '', priority: String(d.priority), weight: String(d.weight),
        input: d.price?.source === 'route' ? String(d.price.input_per_1m_usd) : '', output: d.price?.source === 'route' ? String(d.price.output_per_1m_usd) : '',
      }))
    : [blank()]);
  const options = [{ value: '', label: 'Choose a credential' }, ...(credentials.data?.data ?? []).map((c) => ({ value: String(c.id), label: `${c.name} (${c.provider})` }))];
  const catchAll = (route?.model ?? model) === '*';
  const set = (i: number, patch: Partial<Draft>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  const submit = async () => {
    const deployments: PostRoutesBody['deployments'] = rows.map((r) => ({
      credential_id: Number(r.credential),
      ...(r.upstream.trim() ? { upstream_model: r.upstream.trim() } : {}),
      priority: numberOrUndefined(r.priority) ?? 0,
      weight: numberOrUndefined(r.weight) ?? 1,
      ...(r.input.trim() ? { input_per_1m_usd: Number(r.input) } : {}),
      ...(r.output.trim() ? { output_per_1m_usd: Number(r.output) } : {}),
    }));
    const settings = { timeout_ms: timeout.trim() ? Math.round(Number(timeout) * 1000) : null, retries: numberOrUndefined(retries) ?? null };
    if (route) await api.patchRoutesById({ path: { id: route.id }, body: { ...settings, deployments } });
    else await api.postRoutes({ body: { model: model.trim(), ...settings, deployments } });
    toast(`Route ${route?.model ?? model.trim()} saved`);
    onSaved();
    onClose();
  };

  return (
    <Form onSubmit={submit} submitLabel={route ? 'Save route' : 'Create route'} onCancel={onClose}>
      {!route && (
        <Field name="model" label="Model name" hint='The name clients ask for. "*" is the catch-all: every model no other route names.'>
          <TextInput name="model" value={model} onValue={setModel} placeholder="gpt-4o" />
        </Field>
      )}
      <div class="form-grid">
        <Field name="timeout_ms" label="Timeout (seconds)" hint="Whole response, at most. Empty: the gateway default.">
          <TextInput name="timeout_ms" type="number" min={1} value={timeout} onValue={setTimeoutS} />
        </Field>
        <Field name="retries" label="Retries per deployment" hint="0–3, with backoff, before falling back.">
          <TextInput name="retries" type="number" min={0} max={3} value={retries} onValue={setRetries} />
        </Field>
      </div>
      <fieldset class="ops-fieldset route-editor">
        <legend>Deployments</legend>
        <p class="muted small">Highest priority first; within one priority, traffic is shared by weight. No deployment: the model answers model_not_found.</p>
        {rows.map((r, i) => {
          const at = `deployments.${i}`;
          return (
            <div class="route-row" key={i} role="group" aria-label={`Deployment ${i + 1}`}>
              <Field name={`${at}.credential_id`} label="Credential">
                <Select name={`${at}.credential_id`} value={r.credential} onValue={(v) => set(i, { credential: v })} options={options} />
              </Field>
              {!catchAll && (
                <Field name={`${at}.upstream_model`} label="Upstream model">
                  <TextInput name={`${at}.upstream_model`} value={r.upstream} onValue={(v) => set(i, { upstream: v })} placeholder={model || 'same name'} />
                </Field>
              )}
              <Field name={`${at}.priority`} label="Priority"><TextInput name={`${at}.priority`} type="number" value={r.priority} onValue={(v) => set(i, { priority: v })} /></Field>
              <Field name={`${at}.weight`} label="Weight"><TextInput name={`${at}.weight`} type="number" min={1} value={r.weight} onValue={(v) => set(i, { weight: v })} /></Field>
              {!catchAll && (
                <>
                  <Field name={`${at}.input_per_1m_usd`} label="Input $/1M"><TextInput name={`${at}.input_per_1m_usd`} type="number" min={0} step="any" value={r.input} onValue={(v) => set(i, { input: v })} placeholder="price book" /></Field>
                  <Field name={`${at}.output_per_1m_usd`} label="Output $/1M"><TextInput name={`${at}.output_per_1m_usd`} type="number" min={0} step="any" value={r.output} onValue={(v) => set(i, { output: v })} placeholder="price book" /></Field>
                </>
              )}
              <Button class="btn-small route-remove" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={`Remove deployment ${i + 1}`}>Remove</Button>
            </div>
          );
        })}
        <Button class="btn-small" onClick={() => setRows([...rows, blank()])}>Add deployment</Button>
      </fieldset>
    </Form>
  );
}
