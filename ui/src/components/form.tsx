// Forms whose errors land next to the field they name. <Form> runs onSubmit with a busy state;
// when it throws an ApiFailure whose `param` names a <Field> of this form (exactly, or by its
// first segment: "limits.rpm" → "limits"), the message is shown under that field; any other
// failure is a banner at the top of the form. Inputs get their id and aria wiring from fieldProps.
import { createContext, type ComponentChildren, type InputHTMLAttributes } from 'preact';
import { useContext, useRef, useState } from 'preact/hooks';
import { ApiFailure } from '../api/transport.ts';
import { Button, ErrorNote } from './ui.tsx';

interface FormState {
  errors: Record<string, string>;
  fields: Set<string>;
}
const FormContext = createContext<FormState>({ errors: {}, fields: new Set() });

export const fieldId = (name: string): string => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** id, name and aria attributes for the input of field `name` */
export function useFieldProps(name: string): { id: string; name: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string } {
  const ctx = useContext(FormContext);
  ctx.fields.add(name);
  const error = ctx.errors[name];
  return { id: fieldId(name), name, ...(error ? { 'aria-invalid': 'true' as const, 'aria-describedby': `${fieldId(name)}-error` } : {}) };
}

export function Form({ onSubmit, children, submitLabel = 'Save', onCancel, danger, class: cls }: {
  onSubmit: () => Promise<void> | void;
  children: ComponentChildren;
  submitLabel?: string;
  onCancel?: () => void;
  danger?: boolean;
  class?: string;
}) {
  const fields = useRef(new Set<string>()).current;
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setGeneral(undefined);
    setBusy(true);
    try {
      await onSubmit();
    } catch (err) {
      const field = err instanceof ApiFailure && err.param ? matchField(err.param, fields) : undefined;
      if (field) {
        // Shown under the field it names: the message's "param: " lead-in would say it twice.
        const { message, param } = err as ApiFailure;
        setErrors({ [field]: param && message.startsWith(`${param}: `) ? message.slice(param.length + 2) : message });
        (document.getElementById(fieldId(field)) as HTMLElement | null)?.focus();
      } else setGeneral(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <FormContext.Provider value={{ errors, fields }}>
      <form class={`form ${cls ?? ''}`} onSubmit={submit} noValidate>
        <ErrorNote error={general} />
        {children}
        <div class="form-actions">
          {onCancel && <Button onClick={onCancel}>Cancel</Button>}
          <Button type="submit" variant={danger ? 'danger' : 'primary'} busy={busy}>{submitLabel}</Button>
        </div>
      </form>
    </FormContext.Provider>
  );
}

function matchField(param: string, fields: Set<string>): string | undefined {
  // "deployments[1].weight" (a handler's check) and "deployments.1.weight" (zod's) name one field.
  const clean = param.replace(/^body\./, '').replace(/\[(\d+)\]/g, '.$1');
  if (fields.has(clean)) return clean;
  const first = clean.split(/[.[]/)[0]!;
  return fields.has(first) ? first : undefined;
}

/** A labelled field; its error (from the API, by name) is shown under it. */
export function Field({ name, label, hint, children }: { name: string; label: ComponentChildren; hint?: ComponentChildren; children: ComponentChildren }) {
  const ctx = useContext(FormContext);
  ctx.fields.add(name);
  const error = ctx.errors[name];
  return (
    <div class={`field ${error ? 'has-error' : ''}`}>
      <label for={fieldId(name)}>{label}</label>
      {children}
      {hint && !error && <p class="hint">{hint}</p>}
      {error && <p class="field-error" id={`${fieldId(name)}-error`} role="alert">{error}</p>}
    </div>
  );
}

interface InputProps {
  name: string;
  value: string;
  onValue: (v: string) => void;
  type?: 'text' | 'email' | 'password' | 'number' | 'search' | 'url' | 'date' | 'datetime-local';
  placeholder?: string;
  autoComplete?: string;
  required?: boolean;
  disabled?: boolean;
  min?: number | string;
  max?: number | string;
  step?: number | string;
  list?: string;
}
export function TextInput({ name, value, onValue, type = 'text', ...rest }: InputProps) {
  const props = useFieldProps(name);
  // Preact 11 types an input's attributes per `type`; this one component chooses among them.
  const attrs = { ...rest, ...props, type, value, onInput: (e: Event) => onValue((e.currentTarget as HTMLInputElement).value) } as unknown as InputHTMLAttributes<HTMLInputElement>;
  return <input {...attrs} />;
}

export function TextArea({ name, value, onValue, rows = 3 }: { name: string; value: string; onValue: (v: string) => void; rows?: number }) {
  const props = useFieldProps(name);
  return <textarea {...props} rows={rows} value={value} onInput={(e) => onValue((e.currentTarget as HTMLTextAreaElement).value)} />;
}

export function Select<T extends string>({ name, value, onValue, options }: { name: string; value: T; onValue: (v: T) => void; options: Array<{ value: T; label: string }> }) {
  const props = useFieldProps(name);
  return (
    <select {...props} value={value} onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value as T)}>
      {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
    </select>
  );
}

export function Checkbox({ name, checked, onValue, label }: { name: string; checked: boolean; onValue: (v: boolean) => void; label: ComponentChildren }) {
  const props = useFieldProps(name);
  return (
    <label class="checkbox">
      <input {...props} type="checkbox" checked={checked} onChange={(e) => onValue((e.currentTarget as HTMLInputElement).checked)} /> {label}
    </label>
  );
}

/** "" → undefined, "12.5" → 12.5 (a number field left empty means "not set") */
export const numberOrUndefined = (v: string): number | undefined => (v.trim() === '' ? undefined : Number(v));
/** "a, b ,c" → ["a","b","c"]; "" → undefined */
export const listOrUndefined = (v: string): string[] | undefined => {
  const items = v.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
};
