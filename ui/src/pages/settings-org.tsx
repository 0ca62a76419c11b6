// Organization settings: its details (GET /api/orgs/current), its limits and budget — the ceiling
// over every team and key (GET/PUT /api/orgs/current/limits) — and its access rule, the top of the
// asset boundary (GET/PUT /api/orgs/current/access). Admins edit; viewers read, with no button.
import { useState } from 'preact/hooks';
import { api, type GetOrgsCurrentAccessResponse } from '../api/generated.ts';
import { Badge, Button, Card, Details, ErrorNote, Loading } from '../components/ui.tsx';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, listOrUndefined, TextArea } from '../components/form.tsx';
import { LimitsEditor, LimitsView, draftFrom, limitsBody } from '../components/limits.tsx';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { dateTime } from '../components/format.ts';

export function OrgDetails() {
  const { data, error, reload } = useApi((signal) => api.getOrgsCurrent({ options: { signal } }), []);
  return (
    <Card title="Organization">
      {error ? <ErrorNote error={error} onRetry={reload} /> : !data ? <Loading /> : (
        <Details items={[['Name', data.name], ['Slug', <span class="mono">{data.slug}</span>], ['ID', String(data.id)], ['Created', dateTime(data.created_at)]]} />
      )}
    </Card>
  );
}

export function OrgLimits({ editable }: { editable: boolean }) {
  const { data, error, reload } = useApi((signal) => api.getOrgsCurrentLimits({ options: { signal } }), []);
  const [editing, setEditing] = useState(false);
  return (
    <Card title="Limits and budget" actions={editable && data && <Button onClick={() => setEditing(true)}>Edit limits</Button>}>
      <p class="muted">The ceiling over every team and key of the organization.</p>
      {error ? <ErrorNote error={error} onRetry={reload} /> : !data ? <Loading /> : <LimitsView layer={data} />}
      {editable && (
        <Modal title="Organization limits and budget" open={editing} onClose={() => setEditing(false)} wide>
          {editing && data && <LimitsForm policy={data.policy} onDone={() => { setEditing(false); reload(); }} onCancel={() => setEditing(false)} />}
        </Modal>
      )}
    </Card>
  );
}

function LimitsForm({ policy, onDone, onCancel }: { policy: Parameters<typeof draftFrom>[0]; onDone: () => void; onCancel: () => void }) {
  const [draft, setDraft] = useState(draftFrom(policy));
  const submit = async () => {
    await api.putOrgsCurrentLimits({ body: limitsBody(draft) });
    toast('Organization limits saved');
    onDone();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save limits" onCancel={onCancel}>
      <LimitsEditor value={draft} onValue={setDraft} />
    </Form>
  );
}

type Rule = GetOrgsCurrentAccessResponse;

export function OrgAccess({ editable }: { editable: boolean }) {
  const rule = useApi((signal) => api.getOrgsCurrentAccess({ options: { signal } }), []);
  const groups = useApi((signal) => api.getAccessGroups({ query: { limit: 1000 }, options: { signal } }), []);
  const [editing, setEditing] = useState(false);
  const groupName = (id: number) => groups.data?.data.find((g) => g.id === id)?.name ?? `Group #${id}`;
  const r = rule.data;
  const list = (items: string[] | null, none: string) => (items === null || items.length === 0 ? <span class="muted">{none}</span> : <span class="ops-models">{items.map((m) => <Badge key={m} tone="info">{m}</Badge>)}</span>);
  return (
    <Card title="Access rule" actions={editable && r && <Button onClick={() => setEditing(true)}>Edit access rule</Button>}>
      <p class="muted">What any key of the organization may call at most, and from where. Teams and keys can only narrow it.</p>
      {rule.error ? <ErrorNote error={rule.error} onRetry={rule.reload} /> : !r ? <Loading /> : (
        <Details items={[
          ['Models', r.models === null && r.access_groups === null ? <span class="muted">every routed model</span> : list(r.models, 'none by name')],
          ['Access groups', list(r.access_groups === null ? null : r.access_groups.map(groupName), 'none')],
          ['Blocked models', list(r.blocked_models, 'none')],
          ['IP allowlist', list(r.ip_allowlist, 'any address')],
        ]} />
      )}
      {editable && (
        <Modal title="Organization access rule" open={editing} onClose={() => setEditing(false)} wide>
          {editing && r && <AccessForm rule={r} groups={groups.data?.data ?? []} onDone={() => { setEditing(false); rule.reload(); }} onCancel={() => setEditing(false)} />}
        </Modal>
      )}
    </Card>
  );
}

function AccessForm({ rule, groups, onDone, onCancel }: { rule: Rule; groups: Array<{ id: number; name: string }>; onDone: () => void; onCancel: () => void }) {
  const [models, setModels] = useState((rule.models ?? []).join(', '));
  const [picked, setPicked] = useState<number[]>(rule.access_groups ?? []);
  const [blocked, setBlocked] = useState(rule.blocked_models.join(', '));
  const [ips, setIps] = useState(rule.ip_allowlist.join(', '));
  const toggle = (id: number, on: boolean) => setPicked(on ? [...picked, id] : picked.filter((g) => g !== id));
  const submit = async () => {
    const named = listOrUndefined(models);
    // Neither models nor groups: no restriction (every routed model), which the API calls null.
    await api.putOrgsCurrentAccess({ body: { models: named ?? null, access_groups: picked.length ? picked : null, blocked_models: listOrUndefined(blocked) ?? [], ip_allowlist: listOrUndefined(ips) ?? [] } });
    toast('Access rule saved');
    onDone();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save access rule" onCancel={onCancel}>
      <Field name="models" label="Models" hint="Comma-separated names or patterns (gpt-4o*). Empty, with no access group: every routed model.">
        <TextArea name="models" value={models} onValue={setModels} rows={2} />
      </Field>
      <fieldset class="form-section ops-fieldset">
        <legend>Access groups</legend>
        {groups.length === 0 ? <p class="muted">No access groups yet.</p> : groups.map((g) => (
          <label key={g.id} class="checkbox">
            <input type="checkbox" checked={picked.includes(g.id)} onChange={(e) => toggle(g.id, (e.currentTarget as HTMLInputElement).checked)} /> {g.name}
          </label>
        ))}
      </fieldset>
      <Field name="blocked_models" label="Blocked models" hint="Never callable, whatever a team or key allows.">
        <TextArea name="blocked_models" value={blocked} onValue={setBlocked} rows={2} />
      </Field>
      <Field name="ip_allowlist" label="IP allowlist" hint="Addresses or CIDR ranges (10.0.0.0/8). Empty: any address.">
        <TextArea name="ip_allowlist" value={ips} onValue={setIps} rows={2} />
      </Field>
    </Form>
  );
}
