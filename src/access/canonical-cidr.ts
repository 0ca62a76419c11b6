// The one stored spelling of an allowlist entry, so that equal ranges compare equal in views,
// audits and diffs: the network address (host bits cleared, which does not change what the range
// matches), RFC 5952's compressed IPv6, and always a prefix length ("203.0.113.7" → "203.0.113.7/32").
// An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) is written as the IPv4 range it means: a
// dual-stack socket's ::ffff:10.1.2.3 is judged as 10.1.2.3 (policy/ip-allowlist.ts), so only the
// IPv4 form would ever match it.
import { parseCidr } from '../net/ip.ts';

/** The canonical form of a valid CIDR or address; undefined when cidrProblem would refuse it. */
export function canonicalCidr(text: string): string | undefined {
  const range = parseCidr(text);
  if (!range) return undefined;
  let bytes = Uint8Array.from(range.bytes);
  let prefix = range.prefix;
  if (bytes.length === 16 && prefix >= 96 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    bytes = bytes.slice(12);
    prefix -= 96;
  }
  for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  if (bytes.length === 4) return `${bytes.join('.')}/${prefix}`;
  const words = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // WHATWG URL parsing serializes an IPv6 host in RFC 5952's compressed form.
  const host = new URL(`http://[${words.join(':')}]`).hostname.slice(1, -1);
  return `${host}/${prefix}`;
}
