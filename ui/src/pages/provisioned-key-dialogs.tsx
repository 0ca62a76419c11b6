// Provision a key at the provider (team, provisioning credential, name, limit, expiry; the secret
// shown once), and change one (its limit, or disable it). The limit is checked against what is
// left of the allocation; the API's error lands under "Limit".
import { useState } from 'preact/hooks';
import { api, type PostMeProvisionedKeysResponse } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Checkbox, Field, Form, numberOrUndefined, Select, TextInput } from '../components/form.tsx';
import { SecretOnce } from '../components/secret.tsx';
import { Button } from '../components/ui.tsx';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { usd } from '../components/format.ts';
import { myTeams } from '../session.ts';
import { endOfDay } from './keys-data.ts';
import type { ProvisionedKey } from './provisioned-keys.tsx';

export function ProvisionDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: () => void }) {
  const [created, setCreated] = useState<PostMeProvisionedKeysResponse | undefined>();
  const close = () => {
    // The secret leaves memory with the dialog.
    setCreated(undefined);
    onClose();
  };
  return (
    <Modal title={created ? `${created.name} provisioned` : 'Provision a key'} open={open} onClose={close}>
      {created?.key ? (
        <div>
          <SecretOnce value={created.key} label={`Secret of “${created.name}”`} kept="Tollgate does not keep it: only the provider's id for it and its last four characters." />
          <div class="form-actions"><Button variant="primary" onClick={close}>Done</Button></div>
        </div>
      ) : (
        open && <ProvisionForm onCancel={close} onCreated={(c) => { setCreated(c); onCreated(); }} />
      )}
    </Modal>
  );
}

function ProvisionForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (c: PostMeProvisionedKeysResponse) => void }) {
  const teams = myTeams.value.filter((t) => t.allocation);
  const credentials = useApi((signal) => api.getMeProvisioningCredentials({ options: { signal } }), []);
  const [teamId, setTeamId] = useState(String(teams[0]?.id ?? ''));
  const usable = (credentials.data?.data ?? []).filter((c) => c.team_id === null || String(c.team_id) === teamId);
  const [credential, setCredential] = useState('');
  const [name, setName] = useState('');
  const [limit, setLimit] = useState('');
  const [expires, setExpires] = useState('');
  const team = teams.find((t) => String(t.id) === teamId);
  const chosen = credential || String(usable[0]?.id ?? '');
  const submit = async () => {
    const body = {
      team_id: Number(teamId), credential_id: Number(chosen), name: name.trim(),
      limit_usd: numberOrUndefined(limit) ?? Number.NaN,
      ...(expires ? { expires_at: endOfDay(expires) } : {}),
    };
    onCreated(await api.postMeProvisionedKeys({ body }));
    toast(`${body.name} provisioned`);
  };
  if (credentials.data && usable.length === 0) {
    return <p class="muted">No provisioning credential is set up for this team: ask an admin to add one (provider "OpenRouter provisioning key").</p>;
  }
  return (
    <Form onSubmit={submit} submitLabel="Provision key" onCancel={onCancel}>
      <Field name="team_id" label="Team"><Select name="team_id" value={teamId} onValue={setTeamId} options={teams.map((t) => ({ value: String(t.id), label: t.name }))} /></Field>
      <Field name="credential_id" label="Provider account"><Select name="credential_id" value={chosen} onValue={setCredential} options={usable.map((c) => ({ value: String(c.id), label: c.name }))} /></Field>
      <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} placeholder="notebook" /></Field>
      <Field name="limit_usd" label="Credit limit (USD)" hint={team?.allocation ? `${usd(team.allocation.uncommitted_usd)} of your ${usd(team.allocation.budget_usd)} allocation is left to commit.` : undefined}>
        <TextInput name="limit_usd" type="number" min={0} step="any" value={limit} onValue={setLimit} />
      </Field>
      <Field name="expires_at" label="Expires" hint={team?.self_service?.require_expiry ? 'Required by the team.' : 'Optional.'}><TextInput name="expires_at" type="date" value={expires} onValue={setExpires} /></Field>
    </Form>
  );
}

export function LimitDialog({ provisioned, onClose, onSaved }: { provisioned: ProvisionedKey | undefined; onClose: () => void; onSaved: () => void }) {
  return (
    <Modal title={provisioned ? `Change ${provisioned.name}` : 'Change'} open={!!provisioned} onClose={onClose}>
      {provisioned && <LimitForm k={provisioned} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function LimitForm({ k, onClose, onSaved }: { k: ProvisionedKey; onClose: () => void; onSaved: () => void }) {
  const [limit, setLimit] = useState(String(k.limit_usd));
  const [disabled, setDisabled] = useState(k.status === 'disabled');
  const submit = async () => {
    const next = numberOrUndefined(limit) ?? Number.NaN;
    await api.patchMeProvisionedKeysById({ path: { id: k.id }, body: { ...(next !== k.limit_usd ? { limit_usd: next } : {}), ...(disabled !== (k.status === 'disabled') ? { disabled } : {}) } });
    toast(`${k.name} changed at the provider`);
    onSaved();
    onClose();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save" onCancel={onClose}>
      <Field name="limit_usd" label="Credit limit (USD)" hint="A higher limit must fit in what is left of your allocation."><TextInput name="limit_usd" type="number" min={0} step="any" value={limit} onValue={setLimit} /></Field>
      <Checkbox name="disabled" checked={disabled} onValue={setDisabled} label="Disabled at the provider (its limit stays committed)" />
    </Form>
  );
}
