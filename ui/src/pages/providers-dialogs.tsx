// The provider credential dialogs: add (the secret goes in once), edit (name, base URL, settings,
// models) and rotate (a new secret). None of them ever shows a secret back: the list carries only
// a hint. The providers offered, their default base URLs and settings come from the registry
// (GET /api/providers/kinds).
import { useState } from 'preact/hooks';
import { api, type GetProvidersKindsResponse, type GetProvidersResponse, type PostProvidersBody } from '../api/generated.ts';
import { useApi } from '../components/use-api.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, listOrUndefined, Select, TextArea, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';

export type Credential = GetProvidersResponse['data'][number];
type ProviderKind = PostProvidersBody['provider'];

type Kind = GetProvidersKindsResponse['data'][number];

/** Until the registry's list arrives (and if it cannot be read): OpenAI only. */
const FALLBACK_KINDS: Kind[] = [{ id: 'openai', label: 'OpenAI', default_base_url: 'https://api.openai.com/v1', options: [], native: [], translated: [] }];

const MODELS_HINT = 'Comma-separated model names: each gets a route served by this credential (or this credential joins its route as one more deployment); * is the catch-all route, for every model no other route names.';

/** Add (credential undefined) or edit (name, base URL, models of `credential`). */
export function ProviderDialog({ open, credential, onClose, onSaved }: { open: boolean; credential?: Credential; onClose: () => void; onSaved: () => void }) {
  return (
    <Modal title={credential ? `Edit ${credential.name}` : 'Add a provider credential'} open={open} onClose={onClose}>
      {open && <ProviderForm credential={credential} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function ProviderForm({ credential, onClose, onSaved }: { credential?: Credential; onClose: () => void; onSaved: () => void }) {
  const { data } = useApi((signal) => api.getProvidersKinds({ options: { signal } }), []);
  const kinds = data?.data.length ? data.data : FALLBACK_KINDS;
  const [name, setName] = useState(credential?.name ?? '');
  const [provider, setProvider] = useState<ProviderKind>((credential?.provider as ProviderKind | undefined) ?? 'openai');
  const [baseUrl, setBaseUrl] = useState(credential?.base_url ?? FALLBACK_KINDS[0]!.default_base_url ?? '');
  const [apiKey, setApiKey] = useState('');
  const [settings, setSettings] = useState<Record<string, string>>(credential?.options ?? {});
  const [models, setModels] = useState(credential ? credential.models.join(', ') : '*');
  const kind = kinds.find((k) => k.id === (credential?.provider ?? provider));
  const pickKind = (k: ProviderKind) => {
    // A base URL still at the previous kind's default follows the new kind.
    if (!baseUrl || kinds.some((x) => x.default_base_url === baseUrl)) setBaseUrl(kinds.find((x) => x.id === k)?.default_base_url ?? '');
    setSettings({});
    setProvider(k);
  };
  // Only the settings the provider knows, and only those filled in.
  const options = Object.fromEntries((kind?.options ?? []).flatMap((o) => (settings[o.name] ? [[o.name, settings[o.name]!]] : [])));
  const submit = async () => {
    const list = listOrUndefined(models) ?? [];
    if (credential) {
      // Only what changed is sent: an unchanged base URL is not checked again (a local upstream the
      // operator registered outside the allowlist stays renamable).
      const body = {
        ...(name !== credential.name ? { name } : {}),
        ...(baseUrl !== credential.base_url ? { base_url: baseUrl } : {}),
        ...(list.join('\n') !== credential.models.join('\n') ? { models: list } : {}),
        ...(JSON.stringify(options) !== JSON.stringify(credential.options) ? { options } : {}),
      };
      if (Object.keys(body).length > 0) await api.patchProvidersById({ path: { id: credential.id }, body });
      toast(`${name} saved`);
    } else {
      // An empty base URL: the provider's own default (the API says so when it has none).
      await api.postProviders({ body: { name, provider, ...(baseUrl ? { base_url: baseUrl } : {}), api_key: apiKey, options, models: list } });
      // The secret is dropped from memory with the form; it is never shown again.
      setApiKey('');
      toast(`${name} added`);
    }
    onSaved();
    onClose();
  };
  return (
    <Form onSubmit={submit} submitLabel={credential ? 'Save' : 'Add credential'} onCancel={onClose}>
      <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} placeholder="openai-main" /></Field>
      {!credential && (
        <Field name="provider" label="Provider"><Select name="provider" value={provider} onValue={pickKind} options={kinds.map((k) => ({ value: k.id as ProviderKind, label: k.label }))} /></Field>
      )}
      <Field name="base_url" label="Base URL"><TextInput name="base_url" type="url" value={baseUrl} onValue={setBaseUrl} placeholder={kind?.default_base_url ?? 'https://…/v1'} /></Field>
      {(kind?.options ?? []).map((o) => (
        <Field key={o.name} name={`options.${o.name}`} label={o.required ? o.name : `${o.name} (optional)`} hint={o.description}>
          <TextInput name={`options.${o.name}`} value={settings[o.name] ?? ''} onValue={(v) => setSettings({ ...settings, [o.name]: v })} />
        </Field>
      ))}
      {!credential && (
        <Field name="api_key" label="API key" hint="Stored encrypted. Tollgate shows only its last four characters from now on.">
          <TextInput name="api_key" type="password" value={apiKey} onValue={setApiKey} autoComplete="off" />
        </Field>
      )}
      <Field name="models" label="Models" hint={MODELS_HINT}><TextArea name="models" value={models} onValue={setModels} rows={2} /></Field>
    </Form>
  );
}

/** A new secret for `credential`: requests routed to it use the new one at once. */
export function RotateDialog({ credential, onClose, onSaved }: { credential: Credential | undefined; onClose: () => void; onSaved: () => void }) {
  const [apiKey, setApiKey] = useState('');
  const close = () => {
    setApiKey('');
    onClose();
  };
  const submit = async () => {
    const updated = await api.postProvidersByIdRotate({ path: { id: credential!.id }, body: { api_key: apiKey } });
    toast(`Secret of ${updated.name} rotated (now ${updated.api_key_hint})`);
    onSaved();
    close();
  };
  return (
    <Modal title={credential ? `Rotate the secret of ${credential.name}` : 'Rotate'} open={!!credential} onClose={close}>
      {credential && (
        <Form onSubmit={submit} submitLabel="Rotate secret" onCancel={close}>
          <p class="muted">The current secret ({credential.api_key_hint}) is replaced and discarded; the next request routed to this credential uses the new one. Revoke the old one at {credential.provider} afterwards.</p>
          <Field name="api_key" label="New API key"><TextInput name="api_key" type="password" value={apiKey} onValue={setApiKey} autoComplete="off" /></Field>
        </Form>
      )}
    </Modal>
  );
}
