// The small pieces every page is made of: page header, cards and stats, buttons, badges,
// progress bars, loading / empty / error states, tabs.
import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { ApiFailure } from '../api/transport.ts';

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p class="muted">{subtitle}</p>}
      </div>
      {actions && <div class="actions">{actions}</div>}
    </header>
  );
}

export function Card({ title, actions, children, class: cls }: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${cls ?? ''}`}>
      {(title || actions) && (
        <div class="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, detail, tone }: { label: string; value: ComponentChildren; detail?: ComponentChildren; tone?: 'up' | 'down' | 'neutral' }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {detail && <div class={`stat-detail ${tone ?? ''}`}>{detail}</div>}
    </div>
  );
}

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'type'> & { variant?: 'primary' | 'secondary' | 'danger' | 'ghost'; busy?: boolean; type?: 'button' | 'submit' };
export function Button({ variant = 'secondary', busy, children, disabled, type = 'button', class: cls, ...rest }: ButtonProps) {
  return (
    <button {...rest} type={type} class={`btn btn-${variant} ${cls ?? ''}`} disabled={disabled || busy} aria-busy={busy ? 'true' : undefined}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** A key's / user's status as a colored badge. */
export function StatusBadge({ status }: { status: string }) {
  const tone = status === 'active' ? 'good' : status === 'revoked' || status === 'deactivated' || status === 'expired' ? 'bad' : status === 'disabled' || status === 'pending' ? 'warn' : 'neutral';
  return <Badge tone={tone}>{status}</Badge>;
}

/** used of limit, as a bar that turns amber at 80% and red at 100% */
export function Progress({ used, limit, label }: { used: number; limit: number | null | undefined; label?: string }) {
  if (limit == null || limit <= 0) return <span class="muted">no limit</span>;
  const ratio = Math.min(1, used / limit);
  const tone = used >= limit ? 'bad' : ratio >= 0.8 ? 'warn' : 'good';
  return (
    <div class="progress" role="progressbar" aria-label={label ?? 'used'} aria-valuemin={0} aria-valuemax={limit} aria-valuenow={Math.min(used, limit)}>
      <div class={`progress-bar progress-${tone}`} style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="muted">{children}</div>}
    </div>
  );
}

/** An error from the API (or anything else), as a banner; the API's own message is shown. */
export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const message = error instanceof ApiFailure ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div class="alert alert-error" role="alert">
      <span>{message}</span>
      {onRetry && <Button variant="ghost" onClick={onRetry}>Retry</Button>}
    </div>
  );
}

export function Tabs<T extends string>({ tabs, value, onChange, label }: { tabs: Array<{ id: T; label: string }>; value: T; onChange: (id: T) => void; label: string }) {
  return (
    <div class="tabs" role="tablist" aria-label={label}>
      {tabs.map((t) => (
        <button key={t.id} type="button" role="tab" aria-selected={t.id === value} class={`tab ${t.id === value ? 'active' : ''}`} onClick={() => onChange(t.id)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}

/** Term / value pairs (a record's details). */
export function Details({ items }: { items: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="details">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}
