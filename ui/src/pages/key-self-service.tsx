// A team's self-service policy as a member creating their own key sees it (GET /api/me,
// teams[].self_service; seed 002's constraint table). The server enforces it; this only tells the
// person beforehand.
import { usd } from '../components/format.ts';

export interface SelfService {
  enabled: boolean;
  max_keys_per_user: number | null;
  max_budget_usd: number | null;
  require_expiry: boolean;
  max_expiry_days: number | null;
}

export function SelfServiceNote({ policy }: { policy: SelfService | null }) {
  if (!policy || !policy.enabled) {
    return <p class="alert alert-warn">Self-service key creation is off in this team: ask a team owner or an admin to turn it on, or to create the key for you.</p>;
  }
  const rules = [
    policy.max_keys_per_user != null && `at most ${policy.max_keys_per_user} live keys per person`,
    policy.max_budget_usd != null && `a budget of at most ${usd(policy.max_budget_usd)} per key (required)`,
    policy.max_expiry_days != null ? `an expiry within ${policy.max_expiry_days} days (required)` : policy.require_expiry && 'an expiry date (required)',
  ].filter((r): r is string => typeof r === 'string');
  return (
    <div class="alert alert-info key-policy" role="note" aria-label="This team's self-service policy">
      <div>
        <strong>This team's self-service policy</strong>
        {rules.length ? <ul>{rules.map((r) => <li key={r}>{r}</li>)}</ul> : <p>No caps beyond the team's own limits.</p>}
      </div>
    </div>
  );
}
