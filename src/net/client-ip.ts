// The client's address, for IP allowlists, the failed-authentication throttle and the logs.
// By default it is the socket's peer: X-Forwarded-For is whatever the client chose to send.
// TOLLGATE_TRUST_PROXY says which proxies in front of Tollgate are trusted to append to it:
//   false (default)         the socket peer; the header is ignored
//   true | N                N proxies (true = 1): the N-th address from the right of the header
//                           (fewer entries than N: the left-most one)
//   10.0.0.0/8,fd00::/8     proxies inside these ranges: starting from the socket peer, walk the
//                           header right to left while the hop is trusted; the first one that is
//                           not is the client
// Anything in the header that is not an IP address ends the walk at the last trusted hop.
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { inCidr, parseCidr, parseIp, type Cidr } from './ip.ts';

export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'ranges'; ranges: Cidr[]; text: string[] };

export const NO_PROXY: TrustProxy = { kind: 'none' };

/** Parses TOLLGATE_TRUST_PROXY; throws an Error naming the bad entry. */
export function parseTrustProxy(raw: string | boolean | number | undefined): TrustProxy {
  if (raw === undefined || raw === '' || raw === false || raw === 'false' || raw === '0' || raw === 0) return NO_PROXY;
  if (raw === true || raw === 'true') return { kind: 'hops', hops: 1 };
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (Number.isInteger(n)) {
    if (n < 1 || n > 32) throw new Error(`a hop count must be between 1 and 32, got ${n}`);
    return { kind: 'hops', hops: n };
  }
  if (typeof raw !== 'string') throw new Error('must be true, false, a hop count, or a comma-separated list of CIDR ranges');
  const text = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const ranges = text.map((t) => {
    const r = parseCidr(t);
    if (!r) throw new Error(`"${t}" is not true, false, a hop count, or an IP address or CIDR range`);
    return r;
  });
  return { kind: 'ranges', ranges, text };
}

function trusted(address: string, ranges: Cidr[]): boolean {
  const bytes = parseIp(address);
  if (!bytes) return false;
  const v4 = bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : bytes;
  return ranges.some((r) => inCidr(v4, r) || inCidr(bytes, r));
}

export function resolveClientIp(peer: string, forwarded: string | string[] | undefined, trust: TrustProxy): string {
  if (trust.kind === 'none' || forwarded === undefined) return peer;
  const list = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').map((s) => s.trim());
  if (trust.kind === 'hops') {
    // hop 1 is the right-most entry (what the nearest proxy saw)
    let address = peer;
    for (let i = list.length - 1, hop = 1; i >= 0 && hop <= trust.hops; i--, hop++) {
      if (isIP(list[i]!) === 0) break;
      address = list[i]!;
    }
    return address;
  }
  let address = peer;
  if (!trusted(address, trust.ranges)) return address;
  for (let i = list.length - 1; i >= 0; i--) {
    if (isIP(list[i]!) === 0) break;
    address = list[i]!;
    if (!trusted(address, trust.ranges)) break;
  }
  return address;
}

/** The client address of a request (the fast lane and every Fastify route use this, never req.ip). */
export function clientIp(req: IncomingMessage, trust: TrustProxy): string {
  return resolveClientIp(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], trust);
}
