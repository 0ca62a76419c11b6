// The SSRF guard. An organization admin chooses each provider's base_url, so without a guard
// they could make Tollgate call what only Tollgate can reach: the cloud metadata service
// (169.254.169.254), its own admin port, the database, anything on the private network.
// Loopback, link-local, private, shared (CGNAT), unspecified, multicast and reserved addresses —
// and IPv6 forms that embed one of them — are refused unless TOLLGATE_UPSTREAM_ALLOW lists them
// (as CIDRs, addresses or host names), e.g. for a local vLLM or Ollama.
//
// Checked twice: when a provider is written (a clear 400 naming base_url), and when a connection
// is made (guardedLookup for net.connect's `lookup`, or net/guarded-connector.ts for an undici
// pool), because a host name may resolve elsewhere by then (DNS rebinding).
import { lookup as dnsLookup, promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { embeddedIPv4, inCidr, parseCidr, parseIp, type Cidr } from './ip.ts';

const DENIED: Array<{ range: Cidr; kind: string }> = (
  [
    ['0.0.0.0/8', 'unspecified'],
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'shared (carrier-grade NAT)'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['172.16.0.0/12', 'private'],
    ['192.0.0.0/24', 'reserved'],
    ['192.168.0.0/16', 'private'],
    ['198.18.0.0/15', 'reserved'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'site-local'],
    ['fc00::/7', 'private (unique local)'],
    ['ff00::/8', 'multicast'],
    ['100::/64', 'reserved'],
  ] as const
).map(([range, kind]) => ({ range: parseCidr(range)!, kind }));

/** Why an address may not be called ("loopback", …), or undefined when it is a public address. */
export function deniedKind(address: Uint8Array): string | undefined {
  for (const d of DENIED) if (inCidr(address, d.range)) return d.kind;
  const v4 = embeddedIPv4(address);
  return v4 ? deniedKind(v4) : undefined;
}

export class AllowlistError extends Error {}

interface Allowlist {
  all: boolean;
  ranges: Cidr[];
  /** exact host names, lowercased, without a trailing dot */
  hosts: Set<string>;
  /** `*.internal` entries, kept as `.internal` */
  suffixes: string[];
}

const HOST = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,62})?)(\.[a-z0-9_]([a-z0-9_-]{0,62})?)*\.?$/;

/** TOLLGATE_UPSTREAM_ALLOW's entries: `*` (no guard), CIDRs, addresses, host names, `*.suffix`. */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const list: Allowlist = { all: false, ranges: [], hosts: new Set(), suffixes: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      list.all = true;
      continue;
    }
    const range = parseCidr(entry);
    if (range) list.ranges.push(range);
    else if (entry.includes('/') || entry.includes(':') || /^[\d.]+$/.test(entry) || !HOST.test(entry)) throw new AllowlistError(`"${raw}" is neither a CIDR, an IP address nor a host name`);
    else if (entry.startsWith('*.')) list.suffixes.push(entry.slice(1).replace(/\.$/, ''));
    else list.hosts.add(entry.replace(/\.$/, ''));
  }
  return list;
}

export interface UpstreamGuard {
  /** Whether a connection to this (resolved) address may be made. */
  checkUpstreamAddress(address: string, family: number): boolean;
  /**
   * For net.connect's `lookup` option (dns.lookup's signature): resolves, drops the addresses that
   * may not be called, and fails with code ERR_UPSTREAM_ADDRESS_DENIED when none is left.
   */
  guardedLookup: LookupFunction;
  /** A host as written in a URL: why it may not be called (a literal address), else undefined. Names are left to guardedLookup. */
  checkUpstreamHost(hostname: string): string | undefined;
  /** Write-time check of a base URL, resolving a host name: why it may not be called, or undefined. */
  checkBaseUrl(url: string): Promise<string | undefined>;
}

export interface GuardOptions {
  /** how long checkBaseUrl waits for DNS; a name that does not resolve in time is left to connect time */
  resolveTimeoutMs?: number;
}

export function createUpstreamGuard(entries: readonly string[], options: GuardOptions = {}): UpstreamGuard {
  const allow = parseAllowlist(entries);
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 2000;
  const hostAllowed = (hostname: string): boolean => {
    const h = hostname.toLowerCase().replace(/\.$/, '');
    return allow.all || allow.hosts.has(h) || allow.suffixes.some((s) => h.endsWith(s));
  };
  /** Why an address is refused, or undefined when it may be called. */
  const refusal = (address: string): string | undefined => {
    if (allow.all) return undefined;
    const bytes = parseIp(address);
    if (!bytes) return 'not an IP address';
    const v4 = embeddedIPv4(bytes);
    if (allow.ranges.some((r) => inCidr(bytes, r) || (v4 !== undefined && inCidr(v4, r)))) return undefined;
    const kind = deniedKind(bytes);
    return kind === undefined ? undefined : `a ${kind} address`;
  };

  const checkUpstreamAddress = (address: string, _family: number): boolean => refusal(address) === undefined;

  const guardedLookup: LookupFunction = (hostname, opts, callback) => {
    if (hostAllowed(hostname)) return dnsLookup(hostname, opts, callback);
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, opts.all ? [] : '', undefined);
      const usable = addresses.filter((a) => checkUpstreamAddress(a.address, a.family));
      if (usable.length === 0) return callback(deniedError(`host ${hostname} resolves only to internal addresses`), opts.all ? [] : '', undefined);
      if (opts.all) return callback(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };

  const checkUpstreamHost = (hostname: string): string | undefined => {
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    if (isIP(host) === 0 || hostAllowed(host)) return undefined;
    const why = refusal(host);
    return why && `${host} is ${why}`;
  };

  const checkBaseUrl = async (url: string): Promise<string | undefined> => {
    const host = new URL(url).hostname;
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    if (hostAllowed(bare)) return undefined;
    if (isIP(bare) !== 0) return checkUpstreamHost(bare);
    let resolved = await resolveAll(bare, resolveTimeoutMs);
    // RFC 6761: localhost names are loopback, whether or not this resolver knows them.
    if (resolved.length === 0 && /(^|\.)localhost\.?$/i.test(bare)) resolved = [{ address: '127.0.0.1', family: 4 }];
    for (const a of resolved) {
      const why = refusal(a.address);
      if (why) return `${bare} resolves to ${a.address}, ${why}`;
    }
    return undefined;
  };

  return { checkUpstreamAddress, guardedLookup, checkUpstreamHost, checkBaseUrl };
}

/** The error a refused connection fails with (code ERR_UPSTREAM_ADDRESS_DENIED). */
export function deniedError(what: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`upstream ${what}, which Tollgate does not call unless TOLLGATE_UPSTREAM_ALLOW lists it`);
  err.code = 'ERR_UPSTREAM_ADDRESS_DENIED';
  return err;
}

/** Every address a name resolves to; none when it does not resolve (in time). */
async function resolveAll(hostname: string, timeoutMs: number): Promise<LookupAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<LookupAddress[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs);
  });
  const lookup = dns.lookup(hostname, { all: true, verbatim: true } satisfies LookupOptions).catch(() => []);
  try {
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
