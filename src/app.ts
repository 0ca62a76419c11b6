// buildApp(deps): registers plugins and routes; never listens (main.ts does; tests use inject or
// a real port). No module-level state: two apps in one process share nothing.
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { fastLane } from './proxy/fast-lane.ts';
import type { Deps } from './deps.ts';
import { registerErrorHandling } from './http/error-handler.ts';
import { ApiError } from './http/errors.ts';
import { resolveActor } from './http/admin-auth.ts';
import type { Actor } from './http/actor.ts';
import { registerProxyRoutes } from './proxy/proxy.routes.ts';
import { registerTeamRoutes } from './teams/teams.routes.ts';
import { registerKeyRoutes } from './keys/keys.routes.ts';
import { registerUserRoutes } from './users/users.routes.ts';
import { registerProviderRoutes } from './vault/providers.routes.ts';
import { registerOrgRoutes } from './orgs/orgs.routes.ts';
import { registerHealthRoutes } from './http/health.routes.ts';
import { registerLimitRoutes } from './policy/limits.routes.ts';
import { registerMemberRoutes } from './teams/members.routes.ts';
import { registerServiceAccountRoutes } from './teams/service-accounts.routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** every route registered, for the generated security tests */
    routeTable: Array<{ method: string; url: string }>;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

export interface AppOptions {
  masterKeyHash: string;
  logger?: boolean | object;
}

export async function buildApp(deps: Deps, opts: AppOptions): Promise<FastifyInstance> {
  let onLaneError: (err: unknown) => void = () => {};
  const lane = fastLane(deps, (err) => onLaneError(err));
  const app = Fastify({
    // /v1 completions take the fast lane (src/proxy/fast-lane.ts); everything else is Fastify's.
    serverFactory: (handler) => createServer((req, res) => {
      if (!lane(req, res)) handler(req, res);
    }),
    logger: opts.logger ?? false,
    // Per-request access logs cost CPU on the hot path; request_logs is the access log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 32 * 1024 * 1024,
    trustProxy: deps.config.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
  });
  onLaneError = (err) => app.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack } }, 'proxy failure');
  const routeTable: Array<{ method: string; url: string }> = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routeTable.push({ method, url: r.url });
  });
  app.decorateRequest('actor', null as unknown as Actor);

  // Plain JSON.parse: invalid JSON is an OpenAI-shaped 400 naming the problem.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (err) {
      done(new ApiError('invalid_json', `Request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  registerErrorHandling(app);
  registerHealthRoutes(app, deps);
  registerProxyRoutes(app, deps);

  await app.register(async (api) => {
    api.addHook('onRequest', async (req) => {
      req.actor = await resolveActor(deps, req, opts.masterKeyHash);
    });
    registerOrgRoutes(api, deps);
    registerTeamRoutes(api, deps);
    registerKeyRoutes(api, deps);
    registerUserRoutes(api, deps);
    registerProviderRoutes(api, deps);
    registerLimitRoutes(api, deps);
    registerMemberRoutes(api, deps);
    registerServiceAccountRoutes(api, deps);
  }, { prefix: '/api' });

  return app;
}
