// Model → deployments routing, cached per organization with secrets decrypted once per load.
//
// A route (`routes` row) is a public model name; its deployments (`model_routes` rows: credential,
// upstream model, weight, priority, own price) serve it in fallback order. The catch-all '*' is a
// route like any other: it serves a model name ONLY when no explicit route names it — a route
// whose deployments are all gone (credential deleted) answers model_not_found, never the catch-all.
// The cache is dropped by 'routes' invalidations (credential, route or price changes; every replica).
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Invalidation } from '../cache/invalidator.ts';
import type { Vault } from '../vault/crypto.ts';
import type { ModelPrice } from '../config.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { PriceBook } from '../usage/pricing.ts';
import { loadPriceBook } from '../usage/price-book.ts';
import type { ModelRoute, ResolvedRoute } from './types.ts';
import { planAttempts, type Attempt } from './attempts.ts';
import { demoRoute, DEMO_MODEL } from './demo/index.ts';
import { Breaker, type BreakerOptions, type CircuitState } from './breaker.ts';

interface OrgRoutes {
  /** explicit routes by public name, '*' excluded (even those left without deployments) */
  exact: Map<string, ModelRoute>;
  /** the '*' route, its deployments' upstreamModel left '' (filled per model name asked for) */
  catchAll: ModelRoute | undefined;
  /** routes made from the catch-all, per model name asked for (bounded: names come from clients) */
  viaCatchAll: Map<string, ModelRoute>;
  /** the organization's prices, loaded with its routes (a price change drops both) */
  book: PriceLookup;
}

/** What prices a deployment: anything with a lookup (the built-in/config book, or an org's price book). */
export interface PriceLookup {
  lookup(model: string): ModelPrice | undefined;
}

export type PriceSource = 'route' | 'price_book' | null;

interface DeploymentPriceRow {
  model: string;
  upstream_model: string | null;
  input_price_micro: number | null;
  output_price_micro: number | null;
  cached_input_price_micro: number | null;
  max_output_tokens: number | null;
}

/** A deployment's price: its own (both input and output set) wins over the book's for its upstream model, then for the public name. */
export function deploymentPrice(r: DeploymentPriceRow, book: PriceLookup): { price: ModelPrice | undefined; source: PriceSource } {
  if (r.input_price_micro != null && r.output_price_micro != null) {
    const price: ModelPrice = { input: Number(r.input_price_micro), output: Number(r.output_price_micro) };
    if (r.cached_input_price_micro != null) price.cachedInput = Number(r.cached_input_price_micro);
    if (r.max_output_tokens != null) price.maxOutputTokens = r.max_output_tokens;
    return { price, source: 'route' };
  }
  const listed = (r.upstream_model ? book.lookup(r.upstream_model) : undefined) ?? (r.model !== '*' ? book.lookup(r.model) : undefined);
  return { price: listed, source: listed ? 'price_book' : null };
}

/** The price a reservation is bounded with: the dearest priced deployment's (by output, then input). */
export function dearest(deployments: readonly ResolvedRoute[]): ModelPrice | undefined {
  let best: ModelPrice | undefined;
  for (const d of deployments) {
    const p = d.price;
    if (p && (!best || p.output > best.output || (p.output === best.output && p.input > best.input))) best = p;
  }
  return best;
}

const CATCH_ALL_MEMO = 1024;

export interface RouterOptions {
  clock?: Clock;
  /** test hook: the weighted pick's randomness */
  random?: () => number;
  breaker?: Partial<BreakerOptions>;
  /** TOLLGATE_DEMO: `tollgate-demo` is served locally when no explicit route names it */
  demo?: boolean;
}

export class Router {
  private readonly cache = new Map<number, Promise<OrgRoutes>>();
  /** the same, once loaded: a warm request resolves without awaiting */
  private readonly loaded = new Map<number, OrgRoutes>();
  /** credential id → its team (null: the whole organization); ids are unique across organizations */
  private readonly teamOf = new Map<number, number | null>();
  private readonly db: Kysely<Database>;
  private readonly vault: Vault;
  private readonly prices: PriceBook;
  private readonly random: () => number;
  private readonly breaker: Breaker;
  private readonly demo: boolean;

  constructor(db: Kysely<Database>, vault: Vault, prices: PriceBook, options: RouterOptions = {}) {
    this.db = db;
    this.vault = vault;
    this.prices = prices;
    this.random = options.random ?? Math.random;
    this.demo = options.demo === true;
    this.breaker = new Breaker(options.clock ?? systemClock, options.breaker);
  }

  /** The route for a model; null when the organization's routes are not loaded yet (call resolve). */
  resolveCached(orgId: number, model: string): ModelRoute | undefined | null {
    const routes = this.loaded.get(orgId);
    return routes ? this.pick(routes, model) : null;
  }

  async resolve(orgId: number, model: string): Promise<ModelRoute | undefined> {
    return this.pick(await this.forOrg(orgId), model);
  }

  /**
   * The try order for one request of a key of `teamId` (null: no team). A team-scoped credential
   * serves only its own team's keys; empty when nothing left may serve this key (→ model_not_found).
   * Deployments whose circuit is open are left out, unless all are: then the least recently opened
   * is tried (a request is never refused by the breaker alone).
   */
  attempts(route: ModelRoute, teamId: number | null): Attempt[] {
    let deployments = route.deployments;
    if (deployments.some((d) => !this.serves(d, teamId))) deployments = deployments.filter((d) => this.serves(d, teamId));
    if (this.breaker.quiet || !deployments.length) return planAttempts(deployments, route.retries, this.random);
    const usable = deployments.filter((d) => this.breaker.usable(d.deploymentId));
    if (usable.length) deployments = usable;
    else deployments = [deployments.reduce((a, b) => (this.breaker.openedAt(b.deploymentId) < this.breaker.openedAt(a.deploymentId) ? b : a))];
    const plan = planAttempts(deployments, route.retries, this.random);
    const first = plan[0]?.deployment;
    if (!first || this.breaker.state(first.deploymentId) !== 'half_open') return plan;
    // This request is the probe: one attempt, no retries on a deployment that may still be down.
    this.breaker.probing(first.deploymentId);
    return plan.filter((a, i) => i === 0 || a.deployment !== first);
  }

  /** The outcome of one attempt: ok false for a retryable failure (429, 5xx, timeout, connection). */
  report(deployment: ResolvedRoute, ok: boolean): void {
    if (deployment.deploymentId !== 0) this.breaker.report(deployment.deploymentId, ok);
  }

  private serves(d: ResolvedRoute, teamId: number | null): boolean {
    const team = this.teamOf.get(d.credentialId);
    return team == null || team === teamId;
  }

  private pick(routes: OrgRoutes, model: string): ModelRoute | undefined {
    const exact = routes.exact.get(model);
    if (exact) return exact.deployments.length ? exact : undefined;
    if (this.demo && model === DEMO_MODEL) return demoRoute();
    if (!routes.catchAll || !routes.catchAll.deployments.length) return undefined;
    let route = routes.viaCatchAll.get(model);
    if (!route) {
      if (routes.viaCatchAll.size >= CATCH_ALL_MEMO) routes.viaCatchAll.clear();
      const price = routes.book.lookup(model);
      const deployments = routes.catchAll.deployments.map((d) => ({ ...d, upstreamModel: model, price }));
      route = { ...routes.catchAll, model, deployments, boundPrice: price };
      routes.viaCatchAll.set(model, route);
    }
    return route;
  }

  /** Model names served by explicit routes (with a deployment left), and the catch-all's first deployment. */
  async models(orgId: number): Promise<{ names: string[]; catchAll: ResolvedRoute | undefined }> {
    const routes = await this.forOrg(orgId);
    const names = [...routes.exact.values()].filter((r) => r.deployments.length).map((r) => r.model);
    if (this.demo && !routes.exact.has(DEMO_MODEL)) names.push(DEMO_MODEL);
    return { names, catchAll: routes.catchAll?.deployments[0] };
  }

  /** The price book the organization's routes are priced with (GET /api/routes shows prices from it). */
  async priceBook(orgId: number): Promise<PriceLookup> {
    return (await this.forOrg(orgId)).book;
  }

  /** A deployment's circuit on this replica (GET /api/routes). */
  circuit(deploymentId: number): CircuitState {
    return this.breaker.state(deploymentId);
  }

  invalidate(event: Invalidation): void {
    if (event.kind === 'all') {
      this.cache.clear();
      this.loaded.clear();
    } else if (event.kind === 'routes' || event.kind === 'org') {
      this.cache.delete(event.orgId);
      this.loaded.delete(event.orgId);
    }
  }

  private forOrg(orgId: number): Promise<OrgRoutes> {
    let entry = this.cache.get(orgId);
    if (!entry) {
      const loading = this.load(orgId);
      entry = loading;
      this.cache.set(orgId, loading);
      loading.then(
        (routes) => {
          // Not if an invalidation dropped this load meanwhile: the next request loads afresh.
          if (this.cache.get(orgId) === loading) this.loaded.set(orgId, routes);
        },
        () => {
          if (this.cache.get(orgId) === loading) this.cache.delete(orgId);
        },
      );
    }
    return entry;
  }

  private async load(orgId: number): Promise<OrgRoutes> {
    const [routeRows, credentials, deployments, book] = await Promise.all([
      this.db.selectFrom('routes').selectAll().where('org_id', '=', orgId).orderBy('id').execute(),
      this.db.selectFrom('provider_credentials').selectAll().where('org_id', '=', orgId).where('status', '=', 'active').execute(),
      this.db.selectFrom('model_routes').selectAll().where('org_id', '=', orgId).orderBy('priority', 'desc').orderBy('id').execute(),
      loadPriceBook(this.db, orgId, this.prices),
    ]);
    const byCredential = new Map<number, { c: (typeof credentials)[number]; apiKey: string; options: Readonly<Record<string, string>> }>();
    for (const c of credentials) {
      byCredential.set(c.id, { c, apiKey: this.vault.open(c.secret_enc), options: parseOptions(c.options) });
      this.teamOf.set(c.id, c.team_id);
    }
    const byModel = new Map<string, ResolvedRoute[]>();
    for (const r of deployments) {
      const cred = byCredential.get(r.credential_id);
      if (!cred) continue;
      const { price } = deploymentPrice(r, book);
      const d: ResolvedRoute = {
        deploymentId: r.id, credentialId: cred.c.id, provider: cred.c.provider, baseUrl: cred.c.base_url, apiKey: cred.apiKey, options: cred.options,
        upstreamModel: r.model === '*' ? '' : (r.upstream_model ?? r.model), price, weight: Math.max(1, r.weight), priority: r.priority,
      };
      let list = byModel.get(r.model);
      if (!list) byModel.set(r.model, (list = []));
      list.push(d);
    }
    const out: OrgRoutes = { exact: new Map(), catchAll: undefined, viaCatchAll: new Map(), book };
    const named = new Set<string>();
    for (const row of routeRows) {
      named.add(row.model);
      const list = byModel.get(row.model) ?? [];
      const route: ModelRoute = { model: row.model, deployments: list, timeoutMs: row.timeout_ms ?? undefined, retries: row.retries ?? undefined, boundPrice: dearest(list) };
      if (row.model === '*') out.catchAll = route;
      else out.exact.set(row.model, route);
    }
    // Deployments without a routes row (written before routes existed, or by an older replica): still served.
    for (const [model, list] of byModel) {
      if (named.has(model)) continue;
      const route: ModelRoute = { model, deployments: list, timeoutMs: undefined, retries: undefined, boundPrice: dearest(list) };
      if (model === '*') out.catchAll = route;
      else out.exact.set(model, route);
    }
    return out;
  }
}

/** A credential's options column (JSON object of strings); anything else reads as none. */
function parseOptions(text: string | null): Readonly<Record<string, string>> {
  if (!text) return EMPTY;
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return EMPTY;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
    return Object.freeze(out);
  } catch {
    return EMPTY;
  }
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
