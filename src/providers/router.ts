// Model → credential routing, cached per organization with secrets decrypted once.
// An exact model route wins over the catch-all ('*'); among equals, higher priority, then older.
// The cache is dropped by 'routes' invalidations (credential or route changes).
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Invalidation } from '../cache/invalidator.ts';
import type { Vault } from '../vault/crypto.ts';
import { listCredentials } from '../vault/credentials.repository.ts';
import type { PriceBook } from '../usage/pricing.ts';
import type { ResolvedRoute } from './types.ts';

interface OrgRoutes {
  exact: Map<string, ResolvedRoute>;
  catchAll: Omit<ResolvedRoute, 'upstreamModel' | 'price'> | undefined;
  /** routes made from the catch-all, per model name asked for (bounded: names come from clients) */
  viaCatchAll: Map<string, ResolvedRoute>;
}

const CATCH_ALL_MEMO = 1024;

export class Router {
  private readonly cache = new Map<number, Promise<OrgRoutes>>();
  /** the same, once loaded: a warm request resolves without awaiting */
  private readonly loaded = new Map<number, OrgRoutes>();
  private readonly db: Kysely<Database>;
  private readonly vault: Vault;
  private readonly prices: PriceBook;

  constructor(db: Kysely<Database>, vault: Vault, prices: PriceBook) {
    this.db = db;
    this.vault = vault;
    this.prices = prices;
  }

  /** The route for a model; null when the organization's routes are not loaded yet (call resolve). */
  resolveCached(orgId: number, model: string): ResolvedRoute | undefined | null {
    const routes = this.loaded.get(orgId);
    return routes ? this.pick(routes, model) : null;
  }

  async resolve(orgId: number, model: string): Promise<ResolvedRoute | undefined> {
    return this.pick(await this.forOrg(orgId), model);
  }

  private pick(routes: OrgRoutes, model: string): ResolvedRoute | undefined {
    const exact = routes.exact.get(model);
    if (exact) return exact;
    if (!routes.catchAll) return undefined;
    let route = routes.viaCatchAll.get(model);
    if (!route) {
      if (routes.viaCatchAll.size >= CATCH_ALL_MEMO) routes.viaCatchAll.clear();
      route = { ...routes.catchAll, upstreamModel: model, price: this.prices.lookup(model) };
      routes.viaCatchAll.set(model, route);
    }
    return route;
  }

  /** Model names served by explicit routes, and whether a catch-all exists. */
  async models(orgId: number): Promise<{ names: string[]; catchAll: ResolvedRoute | undefined }> {
    const routes = await this.forOrg(orgId);
    const catchAll = routes.catchAll ? { ...routes.catchAll, upstreamModel: '', price: undefined } : undefined;
    return { names: [...routes.exact.keys()], catchAll };
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
    const { credentials, routes } = await listCredentials(this.db, orgId);
    const byId = new Map(credentials.map((c) => [c.id, c]));
    const out: OrgRoutes = { exact: new Map(), catchAll: undefined, viaCatchAll: new Map() };
    for (const r of routes) {
      const c = byId.get(r.credential_id);
      if (!c) continue;
      const base = { deploymentId: r.id, credentialId: c.id, provider: c.provider, baseUrl: c.base_url, apiKey: this.vault.open(c.secret_enc), options: {}, weight: r.weight, priority: r.priority };
      if (r.model === '*') {
        out.catchAll ??= base;
        continue;
      }
      if (out.exact.has(r.model)) continue;
      const upstreamModel = r.upstream_model ?? r.model;
      const listed = this.prices.lookup(upstreamModel) ?? this.prices.lookup(r.model);
      const price =
        r.input_price_micro != null && r.output_price_micro != null
          ? { input: r.input_price_micro, output: r.output_price_micro, ...(r.max_output_tokens != null ? { maxOutputTokens: r.max_output_tokens } : {}) }
          : listed;
      out.exact.set(r.model, { ...base, upstreamModel, price });
    }
    return out;
  }
}
