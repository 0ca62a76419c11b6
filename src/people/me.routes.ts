// GET /api/me (who am I, my teams, allocations and what is left) and PUT /api/me/password.
// /api/me/keys ("My Keys") lives in src/selfservice/.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../auth/passwords.ts';
import { claimAttempt, clearFailures, recordFailure } from '../auth/login-throttle.ts';
import { revokeUserSessions } from '../auth/sessions.ts';
import { meDoc, meView } from './me-view.ts';

const passwordBody = z.strictObject({
  current_password: z.string().min(1, 'must not be empty').max(MAX_PASSWORD_LENGTH),
  new_password: z.string().max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
});

/** the other sessions of the person end: a stolen one does not outlive the change */
const passwordChanged = z.object({ changed: z.literal(true), other_sessions_ended: z.number().int() });

export function registerMeRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.get('/me', { config: { action: 'me.read', doc: { summary: 'The signed-in person (or the calling key): identity, role, teams', tag: 'Me', response: meDoc } } }, async (req): Promise<z.infer<typeof meDoc>> => {
    authorize(req.actor, 'me.read');
    return meView(deps, req.actor);
  });

  api.put('/me/password', { config: { action: 'me.update', doc: { summary: 'Change the signed-in person\'s password', tag: 'Me', body: passwordBody, response: passwordChanged } } }, async (req, reply) => {
    const actor = req.actor;
    authorize(actor, 'me.update');
    const sessionId = actor.sessionId;
    if (actor.type !== 'user' || actor.userId === null || sessionId == null) {
      throw new ApiError('invalid_request', 'Only a signed-in person has a password: this request was made with a key.');
    }
    const userId = actor.userId;
    const input = parse(passwordBody, req.body);
    const problem = passwordProblem(input.new_password);
    if (problem) throw invalid('new_password', problem);
    const user = await db.selectFrom('users').select(['password_hash']).where('id', '=', userId).executeTakeFirstOrThrow();
    if (user.password_hash === null) throw invalid('current_password', 'this account has no password (it signs in with single sign-on); an admin can invite you to set one');

    // The current password is guessed no faster here than at sign-in: the same per-account count
    // and lock, so a stolen session cannot be used to find the password out.
    const claim = await claimAttempt(db, userId, deps.config.people, deps.clock.now());
    if (!claim.ok) {
      reply.header('retry-after', String(claim.retryAfterSeconds));
      throw new ApiError('account_locked', 'This account is locked after too many wrong passwords; try again later.', 'current_password', { retry_after: claim.retryAfterSeconds });
    }
    if (!(await verifyPassword(user.password_hash, input.current_password))) {
      await applyChange(deps, actor, async (trx, at) => {
        const lockedUntil = await recordFailure(trx, userId, deps.config.people, Date.parse(at));
        return { result: null, audit: [{ orgId: actor.orgId, action: 'user.password_change_failed', targetType: 'user', targetId: userId, after: { reason: 'wrong_password', ...(lockedUntil ? { locked_until: lockedUntil } : {}) } }] };
      });
      throw invalid('current_password', 'is not this account\'s password');
    }

    // Hashed before the transaction: argon2 takes tens of milliseconds, no lock should wait on it.
    const hash = await hashPassword(input.new_password);
    const ended = await applyChange(deps, actor, async (trx, at) => {
      await trx.updateTable('users').set({ password_hash: hash, updated_at: at }).where('id', '=', userId).execute();
      await clearFailures(trx, userId);
      // Whoever else holds a session of this person (another browser, a thief) is signed out.
      const ended = await revokeUserSessions(trx, userId, at, sessionId);
      return { result: ended, audit: [{ orgId: actor.orgId, action: 'user.password_change', targetType: 'user', targetId: userId, after: { other_sessions_ended: ended } }] };
    });
    return { changed: true, other_sessions_ended: ended };
  });
}
