// Editing a key: name, expiry, models and access groups, IPs, tags (PATCH /api/keys/{id}) and its
// limits and budget (PATCH /api/keys/{id}/limits, only when they changed). The key's own limits are
// read from GET /api/keys/{id}/limits (its "key" layer).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, TextInput } from '../components/form.tsx';
import { Loading } from '../components/ui.tsx';
import { toast } from '../components/toast.tsx';
import { dateInput, endOfDay, type ListedKey } from './keys-data.ts';
import { LimitsEditor, draftFrom, limitsBody, type LimitsDraft } from '../components/limits.tsx';
import { KeyAccessFields, accessBody, accessValuesOf, type AccessValues } from './key-access-fields.tsx';

type EditableKey = Pick<ListedKey, 'id' | 'name' | 'expires_at' | 'models' | 'access_groups' | 'ip_allowlist' | 'tags'>;

export function KeyEditDialog({ keyRow, open, onClose, onSaved }: { keyRow: EditableKey; open: boolean; onClose: () => void; onSaved: () => void }) {
  return (
    <Modal title={`Edit “${keyRow.name}”`} open={open} onClose={onClose} wide>
      {open && <EditForm keyRow={keyRow} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function EditForm({ keyRow, onClose, onSaved }: { keyRow: EditableKey; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(keyRow.name);
  const [expires, setExpires] = useState(dateInput(keyRow.expires_at));
  const [access, setAccess] = useState<AccessValues>(accessValuesOf(keyRow));
  const [limits, setLimits] = useState<LimitsDraft | null>(null);
  const [original, setOriginal] = useState<string>('');
  useEffect(() => {
    const ctl = new AbortController();
    api.getKeysByIdLimits({ path: { id: keyRow.id }, options: { signal: ctl.signal } }).then(
      (r) => {
        const own = r.layers.find((l) => l.level === 'key');
        const v = draftFrom(own?.policy);
        setLimits(v);
        setOriginal(JSON.stringify(limitsBody(v, 'null')));
      },
      () => setLimits(draftFrom(null)),
    );
    return () => ctl.abort();
  }, [keyRow.id]);
  if (!limits) return <Loading />;
  const submit = async () => {
    // The expiry is sent only when changed: the date field holds a day, the key an instant.
    const expiry = expires === dateInput(keyRow.expires_at) ? {} : { expires_at: endOfDay(expires) };
    await api.patchKeysById({ path: { id: keyRow.id }, body: { name: name.trim(), ...expiry, ...accessBody(access) } });
    const next = limitsBody(limits, 'null');
    // PATCH: a field emptied is sent as null (cleared); the others as they are on the form.
    if (JSON.stringify(next) !== original) await api.patchKeysByIdLimits({ path: { id: keyRow.id }, body: next });
    toast('Key saved');
    onSaved();
    onClose();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save" onCancel={onClose}>
      <div class="form-grid">
        <Field name="name" label="Name">
          <TextInput name="name" value={name} onValue={setName} required />
        </Field>
        <Field name="expires_at" label="Expires on" hint="Empty: never expires.">
          <TextInput name="expires_at" type="date" value={expires} onValue={setExpires} />
        </Field>
      </div>
      <p class="form-section">Budget and limits</p>
      <LimitsEditor value={limits} onValue={setLimits} />
      <p class="form-section">Access</p>
      <div class="form-grid">
        <KeyAccessFields value={access} onChange={setAccess} />
      </div>
    </Form>
  );
}
