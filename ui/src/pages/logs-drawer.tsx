// One request, every recorded field (GET /api/logs/{requestId}), in a drawer beside the list:
// where the time went (gateway overhead, upstream, first byte), the tokens (cached, reasoning),
// the cost and the error. Escape or the close button closes it; focus moves into it on open.
import { useEffect, useRef } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Badge, Button, Details, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { dateTime, int, usd } from '../components/format.ts';
import { StatusCode } from './logs-status.tsx';
import { Named } from './logs-names.tsx';

const ms = (v: number | null | undefined) => (v == null ? '—' : `${int(v)} ms`);

export function LogDrawer({ requestId, onClose }: { requestId: string; onClose: () => void }) {
  const { data: r, error, loading } = useApi((signal) => api.getLogsByRequestId({ path: { requestId }, options: { signal } }), [requestId]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Focus moves in, and back to the row's button when the drawer closes (keyboard users keep their place).
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus();
    };
  }, [requestId]);
  return (
    <aside class="drawer" aria-labelledby="log-drawer-title">
      <div class="modal-head">
        <h2 id="log-drawer-title" tabIndex={-1} ref={heading}>Request details</h2>
        <button type="button" class="icon-btn" aria-label="Close request details" onClick={onClose}>×</button>
      </div>
      <p class="mono muted ops-wrap">{requestId}</p>
      {error && <ErrorNote error={error} />}
      {loading && !r && <Loading />}
      {r && (
        <>
          <h3 class="ops-subhead">Request</h3>
          <Details items={[
            ['Time', dateTime(r.created_at)],
            ['Status', <StatusCode code={r.status_code} />],
            ['Error', r.error_code ? <Badge tone="bad">{r.error_code}</Badge> : 'none'],
            ['Endpoint', <span class="mono">{r.endpoint}</span>],
            ['Model', <span class="mono">{r.model}</span>],
            ['Provider', r.provider ?? '—'],
            ['Streamed', r.streamed ? 'yes' : 'no'],
            ['Team', r.team_id === null ? '—' : <Named kind="Team" id={r.team_id} name={r.team_name} inline />],
            ['Key', <Named kind="Key" id={r.key_id} name={r.key_name} inline />],
            ['User', r.user_id === null ? '—' : <Named kind="User" id={r.user_id} name={r.user_name} inline />],
            ['Client IP', r.client_ip ?? '—'],
          ]} />
          <h3 class="ops-subhead">Tokens and cost</h3>
          <Details items={[
            ['Input tokens', int(r.tokens_in)],
            ['Output tokens', int(r.tokens_out)],
            ['Cached input tokens', int(r.cached_tokens)],
            ['Reasoning tokens', int(r.reasoning_tokens)],
            ['Cost', r.unpriced ? <Badge tone="warn">unpriced</Badge> : usd(r.cost_usd)],
            ['Usage', r.usage_estimated ? 'estimated (the provider reported none)' : 'reported by the provider'],
          ]} />
          <h3 class="ops-subhead">Timing</h3>
          <Details items={[
            ['Total latency', ms(r.latency_ms)],
            ['Upstream', ms(r.upstream_ms)],
            ['Time to first byte', ms(r.ttfb_ms)],
            ['Gateway overhead', ms(r.overhead_ms)],
          ]} />
          <div class="form-actions">
            <Button onClick={onClose}>Close</Button>
          </div>
        </>
      )}
    </aside>
  );
}
