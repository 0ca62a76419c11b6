// The provider credential dialogs: add (the secret goes in once), edit (name, base URL, models)
// and rotate (a new secret). None of them ever shows a secret back: the list carries only a hint.
import { useState } from 'preact/hooks';
import { api, type GetProvidersResponse, type PostProvidersBody } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, listOrUndefined, Select, TextArea, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';

export type Credential = GetProvidersResponse['data'][number];
type ProviderKind = PostProvidersBody['provider'];

const KINDS: Array<{ value: ProviderKind; label: string; base: string }> = [
  { value: 'openai', label: 'OpenAI', base: 'https://api.openai.com/v1' },
  { value: 'anthropic', label: 'Anthropic', base: 'https://api.anthropic.com/v1' },
  { value: 'openrouter', label: 'OpenRouter', base: 'https://openrouter.ai/api/v1' },
  { value: 'openai-compatible', label: 'OpenAI-compatible', base: '' },
];

const MODELS_HINT = 'Comma-separated model names this credential serves; * routes every model no other credential names.';

/** Add (credential undefined) or edit (name, base URL, models of `credential`). */
export function ProviderDialog({ open, credential, onClose, onSaved }: { open: boolean; credential?: Credential; onClose: () => void; onSaved: () => void }) {
  return (
    <Modal title={credential ? `Edit ${credential.name}` : 'Add a provider credential'} open={open} onClose={onClose}>
      {open && <ProviderForm credential={credential} onClose={onClose} onSaved={onSaved} />}
    </Modal>
  );
}

function ProviderForm({ credential, onClose, onSaved }: { credential?: Credential; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(credential?.name ?? '');
  const [provider, setProvider] = useState<ProviderKind>((credential?.provider as ProviderKind | undefined) ?? 'openai');
  const [baseUrl, setBaseUrl] = useState(credential?.base_url ?? KINDS[0]!.base);
  const [apiKey, setApiKey] = useState('');
  const [models, setModels] = useState(credential ? credential.models.join(', ') : '*');
  const pickKind = (k: ProviderKind) => {
    // A base URL still at the previous kind's default follows the new kind.
    if (!baseUrl || KINDS.some((x) => x.base === baseUrl)) setBaseUrl(KINDS.find((x) => x.value === k)?.base ?? '');
    setProvider(k);
  };
  const submit = async () => {
    const list = listOrUndefined(models) ?? [];
    if (credential) {
      // Only what changed is sent: an unchanged base URL is not checked again (a local upstream the
      // operator registered outside the allowlist stays renamable).
      const body = {
        ...(name !== credential.name ? { name } : {}),
        ...(baseUrl !== credential.base_url ? { base_url: baseUrl } : {}),
        ...(list.join('\n') !== credential.models.join('\n') ? { models: list } : {}),
      };
      if (Object.keys(body).length > 0) await api.patchProvidersById({ path: { id: credential.id }, body });
      toast(`${name} saved`);
    } else {
      await api.postProviders({ body: { name, provider, base_url: baseUrl, api_key: apiKey, models: list } });
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
        <Field name="provider" label="Provider"><Select name="provider" value={provider} onValue={pickKind} options={KINDS} /></Field>
      )}
      <Field name="base_url" label="Base URL"><TextInput name="base_url" type="url" value={baseUrl} onValue={setBaseUrl} placeholder="https://api.openai.com/v1" /></Field>
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
