// IP addresses as bytes and CIDR ranges over them, for the SSRF guard (net/ssrf.ts). Node's
// net.BlockList is not enough there: the guard must see the IPv4 address inside an IPv6 one
// (::ffff:127.0.0.1, 64:ff9b::a9fe:a9fe, 2002:7f00:1::) to judge it like the IPv4 address it reaches.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/** 4 bytes for IPv4, 16 for IPv6 (a zone id, `%eth0`, is ignored); undefined if not an address. */
export function parseIp(text: string): Uint8Array | undefined {
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  const bare = address.split('%')[0]!;
  if (!isIPv6(bare)) return undefined;
  return parseIPv6(bare);
}

function parseIPv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let tail = text;
  // A dotted IPv4 tail (::ffff:1.2.3.4) fills the last four bytes.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let words = 8;
  if (dotted) {
    out.set(dotted[1]!.split('.').map(Number), 12);
    tail = text.slice(0, -dotted[1]!.length);
    if (tail.endsWith(':') && !tail.endsWith('::')) tail = tail.slice(0, -1);
    words = 6;
  }
  const [head = '', rest] = tail.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined ? [] : rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? left : [...left, ...Array<string>(words - left.length - right.length).fill('0'), ...right];
  for (let i = 0; i < words; i++) {
    const v = parseInt(groups[i] ?? '0', 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}

/** `10.0.0.0/8`, `fc00::/7`, or one address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const bytes = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const bits = slash === -1 ? undefined : text.slice(slash + 1);
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = bits === undefined ? max : Number(bits);
  return prefix <= max ? { bytes, prefix } : undefined;
}

export function inCidr(address: Uint8Array, range: Cidr): boolean {
  if (address.length !== range.bytes.length) return false;
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== range.bytes[i]) return false;
  const bits = range.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (address[full]! & mask) === (range.bytes[full]! & mask);
}

const cidr = (text: string): Cidr => parseCidr(text)!;

/** IPv6 forms that carry an IPv4 address, and where it sits. */
const EMBEDDING: Array<{ range: Cidr; at: number }> = [
  { range: cidr('::ffff:0:0/96'), at: 12 }, // IPv4-mapped
  { range: cidr('::/96'), at: 12 }, // IPv4-compatible (deprecated, still routed by some stacks)
  { range: cidr('64:ff9b::/96'), at: 12 }, // NAT64, well-known prefix
  { range: cidr('64:ff9b:1::/48'), at: 12 }, // NAT64, local-use prefix
  { range: cidr('2002::/16'), at: 2 }, // 6to4
];

/** The IPv4 address an IPv6 address reaches, when it embeds one. */
export function embeddedIPv4(address: Uint8Array): Uint8Array | undefined {
  if (address.length !== 16) return undefined;
  for (const e of EMBEDDING) if (inCidr(address, e.range)) return address.slice(e.at, e.at + 4);
  return undefined;
}
