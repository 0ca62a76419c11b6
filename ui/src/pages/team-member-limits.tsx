// A member's own rate limits in a team (requests and tokens per minute/hour/day, parallel
// requests): every key the member owns in the team counts against them, beneath the team's. The
// member's budget is their allocation, set in the member dialog, so it is left out here and the
// change is a PATCH of the rate fields only (a PUT would clear the allocation).
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Form } from '../components/form.tsx';
import { draftFrom, LimitsEditor, limitsBody, LimitsView, type LimitField } from '../components/limits.tsx';
import { toast } from '../components/toast.tsx';
import { Button, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { personLabel } from './team-common.tsx';
import type { Team } from './team-detail.tsx';
import type { Member } from './team-members.tsx';

const RATE_FIELDS = ['rpm', 'rph', 'rpd', 'tpm', 'tpd', 'max_parallel_requests'] as const satisfies readonly LimitField[];

export function MemberLimitsDialog({ member, team, write, onClose }: { member: Member | null; team: Team; write: boolean; onClose: () => void }) {
  return (
    <Modal title={member ? `Limits of ${personLabel(member)} in ${team.name}` : 'Limits'} open={member !== null} onClose={onClose} wide>
      {member && <MemberLimits key={member.user_id} member={member} team={team} write={write} onClose={onClose} />}
    </Modal>
  );
}

function MemberLimits({ member, team, write, onClose }: { member: Member; team: Team; write: boolean; onClose: () => void }) {
  const path = { id: team.id, userId: member.user_id };
  const limits = useApi((signal) => api.getTeamsByIdMembersByUserIdLimits({ path, options: { signal } }), [team.id, member.user_id]);
  const [draft, setDraft] = useState<ReturnType<typeof draftFrom> | null>(null);
  if (limits.error && !limits.data) return <ErrorNote error={limits.error} onRetry={limits.reload} />;
  if (!limits.data) return <Loading />;
  if (!draft) {
    return (
      <>
        <LimitsView layer={limits.data} />
        <div class="form-actions">
          <Button onClick={onClose}>Close</Button>
          {write && <Button variant="primary" onClick={() => setDraft(draftFrom(limits.data!.policy))}>Change limits</Button>}
        </div>
      </>
    );
  }
  const submit = async () => {
    const all = limitsBody(draft, 'null') as Record<string, unknown>;
    const body = Object.fromEntries(RATE_FIELDS.map((f) => [f, all[f] ?? null]));
    await api.patchTeamsByIdMembersByUserIdLimits({ path, body });
    toast(`Limits of ${personLabel(member)} saved`);
    setDraft(null);
    limits.reload();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save limits" onCancel={() => setDraft(null)}>
      <p class="muted">Their budget is their allocation (Edit on the member's row).</p>
      <LimitsEditor value={draft} onValue={setDraft} fields={[...RATE_FIELDS]} />
    </Form>
  );
}
