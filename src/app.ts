// buildApp(deps): registers plugins and routes; never listens (main.ts does; tests use inject or
// a real port). No module-level state: two apps in one process share nothing.
import { createServer, type ServerOptions } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { fastLane } from './proxy/fast-lane.ts';
import type { Deps } from './deps.ts';
import { frameworkErrors, registerErrorHandling } from './http/error-handler.ts';
import { answerServerLevelErrors, onClientError, refuseMissingHost, sendJson } from './http/client-errors.ts';
import { ApiError } from './http/errors.ts';
import { jsonProblem } from './http/validate.ts';
import { MasterKey } from './http/admin-auth.ts';
import { isAdminUrl, registerAdminPipeline } from './http/admin-pipeline.ts';
import { isAction } from './auth/permissions.ts';
import type { RouteAuth } from './auth/authorize.ts';
import type { RouteDoc } from './http/route-doc.ts';
import type { Actor } from './http/actor.ts';
import { registerProxyRoutes } from './proxy/proxy.routes.ts';
import { registerTeamRoutes } from './teams/teams.routes.ts';
import { registerKeyRoutes } from './keys/keys.routes.ts';
import { registerKeyListingRoutes } from './keys/key-listing.routes.ts';
import { registerKeyRotationRoutes } from './keys/key-rotation.routes.ts';
import { registerUserRoutes } from './users/users.routes.ts';
import { registerManagementKeyRoutes } from './auth/management-keys.routes.ts';
import { registerProviderRoutes } from './vault/providers.routes.ts';
import { registerRouteRoutes } from './routing/routes.routes.ts';
import { registerOrgRoutes } from './orgs/orgs.routes.ts';
import { registerHealthRoutes } from './http/health.routes.ts';
import { registerMetricsRoutes } from './observability/metrics.routes.ts';
import { registerLimitRoutes } from './policy/limits.routes.ts';
import { registerMemberRoutes } from './teams/members.routes.ts';
import { registerServiceAccountRoutes } from './teams/service-accounts.routes.ts';
import { registerAccessGroupRoutes } from './access/access-groups.routes.ts';
import { registerAccessRoutes } from './access/access.routes.ts';
import { registerOidcRoutes } from './auth/oidc.routes.ts';
import { registerInvitationRoutes } from './people/invitations.routes.ts';
import { registerAuditRoutes } from './audit/audit.routes.ts';
import { registerLoginRoutes } from './auth/login.routes.ts';
import { registerMeRoutes } from './people/me.routes.ts';
import { registerSelfServiceRoutes } from './selfservice/self-service.routes.ts';
import { registerMyKeyRoutes } from './selfservice/my-keys.routes.ts';
import { registerProvisionedKeyRoutes } from './provisioning/provisioned-keys.routes.ts';
import { registerUsageRoutes } from './usage/usage.routes.ts';
import { registerOpenApiRoutes } from './http/openapi.routes.ts';
import { registerLogRoutes } from './usage/logs.routes.ts';
import { registerPriceRoutes } from './usage/prices.routes.ts';
import { registerUiRoutes } from './ui/ui.routes.ts';
import { REQUEST_ID_LOG_LABEL, requestIdOptions } from './logging.ts';
import { registerInternalRoutes } from './internal/internal.routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** every route registered, with its declared action, for the generated security tests */
    routeTable: RouteEntry[];
  }
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** /api and /internal routes: the action the route authorizes (auth/permissions.ts), or public */
    action?: RouteAuth['action'];
    public?: boolean;
    /** what the OpenAPI document says about the route (http/route-doc.ts) */
    doc?: RouteDoc;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  action?: string;
  public?: boolean;
  doc?: RouteDoc;
}

export interface AppOptions {
  masterKeyHash: string;
  logger?: boolean | object;
}

export async function buildApp(deps: Deps, opts: AppOptions): Promise<FastifyInstance> {
  let onLaneError: (err: unknown) => void = () => {};
  let onLaneWarn: (info: Record<string, unknown>, message: string) => void = () => {};
  const lane = fastLane(deps, (err) => onLaneError(err), (info, message) => onLaneWarn(info, message));
  const app = Fastify({
    // /v1 completions take the fast lane (src/proxy/fast-lane.ts); everything else is Fastify's.
    serverFactory: (handler) => {
      const server = createServer(serverOptions(deps.config), (req, res) => {
        if (refuseMissingHost(req, res) || lane(req, res)) return;
        // Draining: requests still arriving on open connections are refused in OpenAI's shape
        // (Fastify's own 503 for this, return503OnClosing, has its own body).
        if (deps.inFlight.closing) return sendJson(res, 'service_unavailable', 'Tollgate is shutting down; retry on another replica.');
        handler(req, res);
      });
      server.keepAliveTimeout = deps.config.keepAliveTimeoutMs;
      answerServerLevelErrors(server);
      return server;
    },
    clientErrorHandler: onClientError,
    frameworkErrors,
    logger: opts.logger ?? false,
    // Per-request access logs cost CPU on the hot path; request_logs is the access log.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_LABEL }),
    // Admin bodies are small JSON; a path with no route still has its body read, so keep it small.
    bodyLimit: deps.config.apiBodyLimitBytes,
    // Fastify's req.ip is not used: every route takes the client address from net/client-ip.ts
    // (requestIp), the same resolution as the /v1 fast lane.
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    // A UUID per request, logged as request_id and sent back as x-request-id (src/logging.ts).
    ...requestIdOptions,
  });
  onLaneError = (err) => app.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack } }, 'proxy failure');
  onLaneWarn = (info, message) => app.log.warn(info, message);
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    const config = (r.config ?? {}) as RouteAuth;
    // Every admin route (/api, /internal) declares what it authorizes (or that it is public): no route without a decision.
    if (isAdminUrl(r.url) && !config.public && !(config.action && isAction(config.action))) {
      throw new Error(`${[r.method].flat().join(',')} ${r.url}: an admin route (/api, /internal) must declare config.action (auth/permissions.ts) or config.public`);
    }
    for (const method of [r.method].flat()) if (method !== 'HEAD') routeTable.push({ method, url: r.url, action: config.action, public: config.public, doc: (r.config as { doc?: RouteDoc } | undefined)?.doc });
  });
  app.decorateRequest('actor', null as unknown as Actor);

  // A GET or HEAD that carries a body (Fastify never reads one): read it to its end, within the
  // API body limit, before answering. Answering first and then closing a socket that still holds
  // unread request bytes makes the kernel send a reset, which can destroy the answer in flight.
  const bodyLimit = deps.config.apiBodyLimitBytes;
  app.addHook('onRequest', (req, _reply, done) => {
    const raw = req.raw;
    const length = raw.headers['content-length'];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || ((length === undefined || length === '0') && raw.headers['transfer-encoding'] === undefined)) return done();
    let size = 0;
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      raw.off('data', onData).off('end', finish).off('error', finish).off('close', onClose);
      done(err);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > bodyLimit) finish(new ApiError('payload_too_large', `Request body is too large (${bodyLimit} bytes at most; a ${req.method} takes none).`));
    };
    const onClose = () => finish();
    raw.on('data', onData).on('end', finish).on('error', finish).on('close', onClose);
  });

  // JSON only (no text/plain parser: a body in any other type is refused, naming its type).
  // Plain JSON.parse: invalid JSON is an OpenAI-shaped 400 naming the problem.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return done(new ApiError('invalid_json', `Request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    const problem = jsonProblem(parsed);
    if (problem) return done(new ApiError('invalid_request', `${problem.param}: ${problem.message}`, problem.param), undefined);
    done(null, parsed);
  });

  registerErrorHandling(app);
  registerHealthRoutes(app, deps);
  registerMetricsRoutes(app, deps);
  registerProxyRoutes(app, deps);
  registerUiRoutes(app, deps);

  // One master key reader for both admin prefixes: its cached hash is shared.
  const master = new MasterKey(deps, opts.masterKeyHash);
  await app.register(async (api) => {
    registerAdminPipeline(api, deps, master);
    registerOrgRoutes(api, deps);
    registerTeamRoutes(api, deps);
    registerKeyRoutes(api, deps);
    registerKeyListingRoutes(api, deps);
    registerKeyRotationRoutes(api, deps);
    registerUserRoutes(api, deps);
    registerManagementKeyRoutes(api, deps);
    registerProviderRoutes(api, deps);
    registerRouteRoutes(api, deps);
    registerLimitRoutes(api, deps);
    registerMemberRoutes(api, deps);
    registerServiceAccountRoutes(api, deps);
    registerAccessGroupRoutes(api, deps);
    registerAccessRoutes(api, deps);
    registerOidcRoutes(api, deps);
    registerInvitationRoutes(api, deps);
    registerAuditRoutes(api, deps);
    registerLoginRoutes(api, deps);
    registerMeRoutes(api, deps);
    registerSelfServiceRoutes(api, deps);
    registerMyKeyRoutes(api, deps);
    registerProvisionedKeyRoutes(api, deps);
    registerUsageRoutes(api, deps);
    registerOpenApiRoutes(api, deps);
    registerLogRoutes(api, deps);
    registerPriceRoutes(api, deps);
  }, { prefix: '/api' });

  // Seed 001's admin paths (issue 15): a thin layer over the same domain code, same pipeline.
  await app.register(async (internal) => {
    registerAdminPipeline(internal, deps, master);
    registerInternalRoutes(internal, deps);
  }, { prefix: '/internal' });

  return app;
}

/**
 * Slow clients (slowloris) hold a connection for as long as the server waits: headers must arrive
 * within headersTimeout, the whole request (headers and body) within requestTimeout. Neither
 * limits the response, so long streams are not cut. Expired connections are found by a periodic
 * sweep: every second, or a quarter of the header timeout if that is shorter. A timed-out request
 * is answered 408 by onClientError when nothing of a response was written yet.
 */
function serverOptions(config: Deps['config']): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    // Checked in the request listener instead, to answer in OpenAI's shape (Node's 400 is empty).
    requireHostHeader: false,
  };
}
