// The hooks every admin surface runs, in one place: /api and /internal (seed 001's paths, issue 15)
// are two prefixes over one pipeline, so neither can drift from the other. In order:
//   query check (NUL, depth) → actor resolution (master key, management key, session) → request
//   logging → the "answered without an authorization decision" guard → under test, response-schema
//   validation → Idempotency-Key on creates.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { ApiError, errorBody } from './errors.ts';
import { jsonProblem } from './validate.ts';
import { resolveActor, type MasterKey } from './admin-auth.ts';
import { registerIdempotency } from './idempotency.ts';
import { registerRequestLogging } from '../logging.ts';

/** The URL prefixes whose routes must each declare an action (or public): app.ts refuses any other. */
export const ADMIN_PREFIXES = ['/api/', '/internal/'] as const;

export const isAdminUrl = (url: string): boolean => ADMIN_PREFIXES.some((p) => url.startsWith(p));

/** Registers the admin pipeline's hooks on `scope` (a plugin with its prefix); call before its routes. */
export function registerAdminPipeline(scope: FastifyInstance, deps: Deps, master: MasterKey): void {
  scope.addHook('preValidation', async (req) => {
    const problem = jsonProblem(req.query);
    if (problem) throw new ApiError('invalid_request', `${problem.param}: ${problem.message}`, problem.param);
  });
  scope.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public) return;
    req.actor = await resolveActor(deps, req, master);
  });
  registerRequestLogging(scope, { accessLog: deps.config.accessLog });
  // The guard: a route that answered successfully without asking authorize() for its declared
  // action is a defect; the client gets a 500 rather than whatever the route meant to show.
  scope.addHook('onSend', async (req, reply, payload) => {
    const config = req.routeOptions.config;
    if (reply.statusCode >= 400 || config.public || !config.action) return payload;
    if (req.actor?.granted?.has(config.action)) return payload;
    req.log.error({ route: req.routeOptions.url, action: config.action }, 'route answered without an authorization decision');
    reply.code(500).type('application/json');
    return JSON.stringify(errorBody('internal_error', 'Internal error.'));
  });
  // Under test (scripts/test.ts sets TOLLGATE_VALIDATE_RESPONSES=1), every success answer is
  // checked against the response schema its route declares in the OpenAPI document, so the
  // document (and the dashboard's client generated from it) cannot drift from what routes send.
  if (process.env.TOLLGATE_VALIDATE_RESPONSES === '1') {
    scope.addHook('onSend', async (req, reply, payload) => {
      const schema = req.routeOptions.config.doc?.response;
      if (!schema || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
      const checked = schema.safeParse(JSON.parse(payload));
      if (checked.success) return payload;
      const where = checked.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      req.log.error({ route: req.routeOptions.url, issues: where }, 'response does not match its declared schema');
      reply.code(500).type('application/json');
      return JSON.stringify(errorBody('internal_error', `Response does not match the schema in the OpenAPI document (${req.method} ${req.routeOptions.url}): ${where}`));
    });
  }
  // before the routes: it hooks into every create and rotate as they are registered
  registerIdempotency(scope, deps);
}
