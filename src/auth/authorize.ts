// The one authorization decision of /api: every route calls authorize(actor, action, target)
// with the action it declared (route config `action`), before it reads a body it would act on.
// A refusal is 403 `forbidden` naming the action; the route guard (app.ts) turns a successful
// answer from a route that never asked into a 500, so a route cannot skip the question.
import type { Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { decide, type Action, type Target } from './permissions.ts';

export function authorize(actor: Actor, action: Action, target?: Target): void {
  if (!decide(actor, action, target)) {
    throw new ApiError('forbidden', `This action (${action}) is not allowed for this credential.`, null, { action });
  }
  (actor.granted ??= new Set()).add(action);
}

/** The route config every /api route declares: its action, or `public: true` (sign-in, invitations). */
export interface RouteAuth {
  action?: Action;
  public?: boolean;
}
