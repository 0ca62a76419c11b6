// A key's asset access (seed 002: inherit the team's, or narrow to models and access groups), its
// allowed client addresses (CIDRs) and tags, as strings while edited. Empty models and no group:
// the key inherits its team's asset set.
import { api } from '../api/generated.ts';
import { Checkbox, Field, TextArea, TextInput, listOrUndefined } from '../components/form.tsx';
import { useApi } from '../components/use-api.ts';

export interface AccessValues {
  models: string;
  access_groups: number[];
  ip_allowlist: string;
  tags: string;
}
export const EMPTY_ACCESS: AccessValues = { models: '', access_groups: [], ip_allowlist: '', tags: '' };

export function accessValuesOf(k: { models: string[] | null; access_groups: number[] | null; ip_allowlist: string[]; tags: string[] }): AccessValues {
  return { models: (k.models ?? []).join(', '), access_groups: k.access_groups ?? [], ip_allowlist: k.ip_allowlist.join(', '), tags: k.tags.join(', ') };
}

/** the access rule and tags as the API takes them; null models and groups = inherit the team's */
export function accessBody(v: AccessValues) {
  const models = listOrUndefined(v.models) ?? null;
  const groups = v.access_groups.length ? v.access_groups : null;
  return { models, access_groups: groups, ip_allowlist: listOrUndefined(v.ip_allowlist) ?? [], tags: listOrUndefined(v.tags) ?? [] };
}

export function KeyAccessFields({ value, onChange }: { value: AccessValues; onChange: (v: AccessValues) => void }) {
  const groups = useApi(async (signal) => ((await api.getAccessGroups({ query: { limit: 200 }, options: { signal } })) as { data?: Array<{ id: number; name: string }> }).data ?? [], []);
  const toggle = (id: number, on: boolean) => onChange({ ...value, access_groups: on ? [...value.access_groups, id] : value.access_groups.filter((g) => g !== id) });
  return (
    <>
      <Field name="models" label="Models" hint="Comma-separated. Empty, with no access group: the team's models.">
        <TextInput name="models" value={value.models} onValue={(models) => onChange({ ...value, models })} placeholder="gpt-4o-mini, gpt-4o" />
      </Field>
      <Field name="ip_allowlist" label="Allowed IPs (CIDR)" hint="Comma-separated. Empty: any address.">
        <TextInput name="ip_allowlist" value={value.ip_allowlist} onValue={(ip_allowlist) => onChange({ ...value, ip_allowlist })} placeholder="10.0.0.0/8, 203.0.113.7/32" />
      </Field>
      {groups.data && groups.data.length > 0 && (
        <fieldset class="key-groups" aria-describedby="key-groups-hint">
          <legend>Access groups</legend>
          <p id="key-groups-hint" class="hint">The key may call the models of the groups checked (within its team's).</p>
          {groups.data.map((g) => (
            <Checkbox key={g.id} name={`access_groups.${g.id}`} checked={value.access_groups.includes(g.id)} onValue={(on) => toggle(g.id, on)} label={g.name} />
          ))}
        </fieldset>
      )}
      <Field name="tags" label="Tags" hint="Comma-separated, e.g. prod, billing.">
        <TextArea name="tags" rows={1} value={value.tags} onValue={(tags) => onChange({ ...value, tags })} />
      </Field>
    </>
  );
}
