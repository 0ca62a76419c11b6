// A secret shown once (a new key, a rotated secret, a management key, an invitation link): in
// full, with a copy button and the plain warning that it will not be shown again.
import { useState } from 'preact/hooks';
import { Button } from './ui.tsx';

export function SecretOnce({ value, label = 'Secret', kept = 'Tollgate stores only a hash of it.' }: { value: string; label?: string; kept?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // no clipboard permission: the value is selectable
      setCopied(false);
    }
  };
  return (
    <div class="secret-once">
      <p class="alert alert-warn" role="alert"><strong>Copy it now: you will not see this again.</strong> {kept}</p>
      <label class="secret-label" for="secret-value">{label}</label>
      <div class="secret-row">
        <input id="secret-value" class="mono" readOnly value={value} onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} data-secret />
        <Button variant="primary" onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>
      </div>
    </div>
  );
}
