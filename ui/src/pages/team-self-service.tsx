// The team's self-service policy (seed 002): may members create their own keys, and within which
// bounds. Shown as seed 002's constraint table (what each bound refuses); the team's owners and
// admins change it (PUT replaces: a bound left empty means "no cap").
import { useState } from 'preact/hooks';
import { api, type GetTeamsByIdSelfServiceResponse } from '../api/generated.ts';
import { Checkbox, Field, Form, numberOrUndefined, TextInput } from '../components/form.tsx';
import { dateTime, int, usd } from '../components/format.ts';
import { toast } from '../components/toast.tsx';
import { Badge, Button, Card, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isViewer } from '../session.ts';
import type { Team } from './team-detail.tsx';

type Policy = GetTeamsByIdSelfServiceResponse;

export function TeamSelfService({ team, manages }: { team: Team; manages: boolean }) {
  const policy = useApi((signal) => api.getTeamsByIdSelfService({ path: { id: team.id }, options: { signal } }), [team.id]);
  const [editing, setEditing] = useState(false);
  const write = manages && !isViewer.value;
  const p = policy.data;
  return (
    <Card title="Self-service keys" actions={write && p && !editing && <Button onClick={() => setEditing(true)}>Change policy</Button>}>
      <p class="muted">
        Members with the right to create their own keys do so within these bounds; the key's owner is always themselves. Their keys may call the team's
        models (<a href={`/ui/teams/${team.id}?tab=access`}>Models &amp; access</a>) and count against their allocation.
      </p>
      {policy.error && !p ? <ErrorNote error={policy.error} onRetry={policy.reload} /> : !p ? <Loading /> : editing ? (
        <PolicyForm team={team} policy={p} onDone={() => { setEditing(false); policy.reload(); }} onCancel={() => setEditing(false)} />
      ) : (
        <ConstraintTable p={p} />
      )}
    </Card>
  );
}

function ConstraintTable({ p }: { p: Policy }) {
  const rows: Array<[string, string, string]> = [
    ['Self-service', p.enabled ? 'enabled' : 'disabled', 'When disabled, a member\'s key creation is refused (403).'],
    ['Keys per member', p.max_keys_per_user == null ? 'no cap' : int(p.max_keys_per_user), 'When a member has this many live keys, another is refused (403).'],
    ['Budget per key', p.max_budget_usd == null ? 'no cap' : `at most ${usd(p.max_budget_usd)}`, 'A key whose budget is above it is refused.'],
    ['Expiry', p.require_expiry ? 'required' : 'optional', 'A key without an expiry is refused when it is required.'],
    ['Longest expiry', p.max_expiry_days == null ? 'no cap' : `${int(p.max_expiry_days)} days`, 'A key expiring later is refused.'],
  ];
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="sr-only">Self-service constraints</caption>
        <thead><tr><th scope="col">Constraint</th><th scope="col">Setting</th><th scope="col" class="wide">Effect</th></tr></thead>
        <tbody>
          {rows.map(([name, value, effect]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{name === 'Self-service' ? <Badge tone={p.enabled ? 'good' : 'warn'}>{value}</Badge> : value}</td>
              <td class="wide muted">{effect}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">{p.updated_at ? `Last changed ${dateTime(p.updated_at)}.` : 'Never changed: the defaults apply.'}</p>
    </div>
  );
}

const text = (v: number | null) => (v == null ? '' : String(v));
const orNull = (v: string) => numberOrUndefined(v) ?? null;

function PolicyForm({ team, policy, onDone, onCancel }: { team: Team; policy: Policy; onDone: () => void; onCancel: () => void }) {
  const [enabled, setEnabled] = useState(policy.enabled);
  const [maxKeys, setMaxKeys] = useState(text(policy.max_keys_per_user));
  const [maxBudget, setMaxBudget] = useState(text(policy.max_budget_usd));
  const [requireExpiry, setRequireExpiry] = useState(policy.require_expiry);
  const [maxDays, setMaxDays] = useState(text(policy.max_expiry_days));
  const submit = async () => {
    await api.putTeamsByIdSelfService({
      path: { id: team.id },
      body: { enabled, max_keys_per_user: orNull(maxKeys), max_budget_usd: orNull(maxBudget), require_expiry: requireExpiry, max_expiry_days: orNull(maxDays) },
    });
    toast('Self-service policy saved');
    onDone();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save policy" onCancel={onCancel}>
      <Checkbox name="enabled" checked={enabled} onValue={setEnabled} label="Members may create their own keys" />
      <div class="form-grid">
        <Field name="max_keys_per_user" label="Most live keys per member" hint="empty: no cap">
          <TextInput name="max_keys_per_user" type="number" min={1} step={1} value={maxKeys} onValue={setMaxKeys} />
        </Field>
        <Field name="max_budget_usd" label="Highest budget per key (USD)" hint="empty: no cap">
          <TextInput name="max_budget_usd" type="number" min={0} step="0.01" value={maxBudget} onValue={setMaxBudget} />
        </Field>
        <Field name="max_expiry_days" label="Longest expiry (days)" hint="empty: no cap">
          <TextInput name="max_expiry_days" type="number" min={1} step={1} value={maxDays} onValue={setMaxDays} />
        </Field>
      </div>
      <Checkbox name="require_expiry" checked={requireExpiry} onValue={setRequireExpiry} label="Every self-service key must have an expiry" />
    </Form>
  );
}
