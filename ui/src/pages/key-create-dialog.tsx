// Seed 002's create dialog: team, owner (me, or a service account of the team — created inline if
// needed), name, limits and budget, expiry, models and access groups, allowed IPs, tags. Admins
// and team owners create through POST /api/keys; a member through POST /api/me/keys, within the
// team's self-service policy, whose caps are shown next to the fields they bound. A refusal is
// shown next to the field the API names. The raw secret is then shown once: it lives in this
// dialog's state only and is forgotten when the dialog closes.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { ApiFailure } from '../api/transport.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, Select, TextInput } from '../components/form.tsx';
import { SecretOnce } from '../components/secret.tsx';
import { Button, ErrorNote } from '../components/ui.tsx';
import { usd } from '../components/format.ts';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { isAdmin, managesTeam, myTeams } from '../session.ts';
import { endOfDay, useTeams } from './keys-data.ts';
import { LimitsEditor, draftFrom, limitsBody, type LimitField, type LimitsDraft } from '../components/limits.tsx';
import { EMPTY_ACCESS, KeyAccessFields, accessBody, type AccessValues } from './key-access-fields.tsx';
import { SelfServiceNote, type SelfService } from './key-self-service.tsx';

const ME = 'me';
/** seed 002's key fields: a budget and its period, RPM, TPM, RPH, RPD, TPD */
const KEY_LIMITS: LimitField[] = ['max_budget_usd', 'budget_period', 'rpm', 'tpm', 'rph', 'rpd', 'tpd'];

export function KeyCreateDialog({ open, onClose, onCreated, teamId }: { open: boolean; onClose: () => void; onCreated: () => void; teamId?: number }) {
  const [created, setCreated] = useState<{ id: number; name: string; secret: string } | null>(null);
  const close = () => {
    setCreated(null);
    onClose();
  };
  return (
    <Modal title={created ? 'Key created' : 'Create a key'} open={open} onClose={close} wide>
      {created ? (
        <div>
          <SecretOnce value={created.secret} label={`Secret of “${created.name}”`} />
          <div class="form-actions">
            <a class="btn btn-secondary" href={`/ui/keys/${created.id}`} onClick={close}>Open the key</a>
            <Button variant="primary" onClick={close}>Done</Button>
          </div>
        </div>
      ) : (
        open && <CreateForm teamId={teamId} onCancel={close} onCreated={(c) => { setCreated(c); onCreated(); }} />
      )}
    </Modal>
  );
}

function CreateForm({ teamId, onCancel, onCreated }: { teamId?: number; onCancel: () => void; onCreated: (c: { id: number; name: string; secret: string }) => void }) {
  const { teams } = useTeams();
  // Admins pick any team; others the teams they belong to (owners: full keys; members: their own).
  const choices = isAdmin.value ? teams : myTeams.value.map((t) => ({ id: t.id, name: t.name }));
  const [picked, setTeam] = useState(teamId === undefined ? '' : String(teamId));
  // Until one is picked: the first team, once the list has arrived (an admin's comes from the API).
  const team = picked || String(choices[0]?.id ?? '');
  const tid = Number(team) || null;
  const full = tid !== null && managesTeam(tid);
  const selfService = (myTeams.value.find((t) => t.id === tid)?.self_service ?? null) as SelfService | null;
  const [owner, setOwner] = useState(ME);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [limits, setLimits] = useState<LimitsDraft>(draftFrom(null));
  const [access, setAccess] = useState<AccessValues>(EMPTY_ACCESS);
  const accounts = useApi(async (signal) => {
    if (!full || tid === null) return [];
    return ((await api.getTeamsByIdServiceAccounts({ path: { id: tid }, options: { signal } })) as { data?: Array<{ id: number; name: string }> }).data ?? [];
  }, [tid, full]);

  const submit = async () => {
    if (tid === null) throw new ApiFailure(400, 'invalid_request', 'Choose a team.', 'team_id');
    const body = { name: name.trim(), team_id: tid, expires_at: endOfDay(expires), ...limitsBody(limits, 'omit'), ...accessBody(access) };
    const r = full
      ? await api.postKeys({ body: { ...body, ...(owner !== ME ? { service_account_id: Number(owner) } : {}) } })
      : await api.postMeKeys({ body });
    toast('Key created');
    onCreated({ id: r.id, name: r.name, secret: r.key ?? '' });
  };

  if (choices.length === 0 && !isAdmin.value) return <ErrorNote error="You are not a member of any team: ask an owner to add you to one." />;
  return (
    <Form onSubmit={submit} submitLabel="Create key" onCancel={onCancel}>
      <div class="form-grid">
        <Field name="team_id" label="Team">
          <Select name="team_id" value={team} onValue={(v) => { setTeam(v); setOwner(ME); }} options={choices.map((t) => ({ value: String(t.id), label: t.name }))} />
        </Field>
        {full ? (
          <OwnerField teamId={tid!} owner={owner} onOwner={setOwner} accounts={accounts.data ?? []} onAccountCreated={accounts.reload} />
        ) : (
          <Field name="owner" label="Owner" hint="A key you create here is yours.">
            <TextInput name="owner" value="You" onValue={() => {}} disabled />
          </Field>
        )}
        {!full && <div class="key-span"><SelfServiceNote policy={selfService} /></div>}
        <Field name="name" label="Name">
          <TextInput name="name" value={name} onValue={setName} placeholder="search-backend" required />
        </Field>
        <Field name="expires_at" label="Expires on" hint={expiryHint(full ? null : selfService)}>
          <TextInput name="expires_at" type="date" value={expires} onValue={setExpires} />
        </Field>
      </div>
      <p class="form-section">Budget and limits</p>
      <LimitsEditor value={limits} onValue={setLimits} fields={KEY_LIMITS} hints={!full && selfService?.max_budget_usd != null ? { max_budget_usd: `Required: at most ${usd(selfService.max_budget_usd)} in this team.` } : {}} />
      <p class="form-section">Access</p>
      <div class="form-grid">
        <KeyAccessFields value={access} onChange={setAccess} />
      </div>
    </Form>
  );
}

function expiryHint(p: SelfService | null): string {
  if (p?.max_expiry_days != null) return `Required: within ${p.max_expiry_days} days in this team.`;
  if (p?.require_expiry) return 'Required in this team.';
  return 'Empty: never expires.';
}

/** Me, or one of the team's service accounts; "New service account" creates one and selects it. */
function OwnerField({ teamId, owner, onOwner, accounts, onAccountCreated }: { teamId: number; owner: string; onOwner: (v: string) => void; accounts: Array<{ id: number; name: string }>; onAccountCreated: () => void }) {
  const [adding, setAdding] = useState(false);
  const [saName, setSaName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const createAccount = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const sa = (await api.postTeamsByIdServiceAccounts({ path: { id: teamId }, body: { name: saName.trim() } })) as { id: number; name: string };
      onAccountCreated();
      onOwner(String(sa.id));
      setAdding(false);
      setSaName('');
      toast(`Service account “${sa.name}” created`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <Field name="service_account_id" label="Owner">
        <Select name="service_account_id" value={owner} onValue={onOwner} options={[{ value: ME, label: 'You' }, ...accounts.map((a) => ({ value: String(a.id), label: `Service account: ${a.name}` }))]} />
      </Field>
      {adding ? (
        <div class="key-new-sa">
          <ErrorNote error={error} />
          <label for="new-sa-name">New service account name</label>
          <div class="key-new-sa-row">
            <input id="new-sa-name" value={saName} onInput={(e) => setSaName((e.currentTarget as HTMLInputElement).value)} placeholder="nightly-evals" />
            <Button variant="primary" class="btn-small" busy={busy} onClick={createAccount} disabled={!saName.trim()}>Create</Button>
            <Button variant="ghost" class="btn-small" onClick={() => setAdding(false)}>Cancel</Button>
          </div>
        </div>
      ) : (
        <Button variant="ghost" class="btn-small" onClick={() => setAdding(true)}>+ New service account</Button>
      )}
    </div>
  );
}
