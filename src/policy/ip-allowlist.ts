// IP allowlists of a key, its team and its organization: a request must pass every level that
// has one. Ranges are parsed once per cached key context; a client address is judged once and
// remembered (bounded), so a warm key pays one Map lookup per request.
import { inCidr, parseCidr, parseIp, type Cidr } from '../net/ip.ts';

export type IpLevel = 'org' | 'team' | 'key';

/** Why a CIDR is unusable, or null. Accepts one address (a /32 or /128) or a range. */
export function cidrProblem(text: string): string | null {
  const range = parseCidr(text);
  if (!range) return `"${text}" is not an IPv4 or IPv6 address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`;
  return null;
}

/** IPv4-mapped IPv6 (::ffff:10.1.2.3, what a dual-stack socket reports) is judged as the IPv4 address. */
function clientBytes(ip: string): Uint8Array | undefined {
  const bytes = parseIp(ip);
  if (bytes && bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

/** addresses judged last, per key (a key is used from few addresses; bounded either way) */
const MEMO = 16;

export class IpAllowlist {
  private readonly levels: Array<{ level: IpLevel; ranges: Cidr[] }>;
  private readonly memo = new Map<string, IpLevel | null>();

  /** Levels with an empty list are open and left out. */
  constructor(levels: Array<{ level: IpLevel; cidrs: string[] }>) {
    this.levels = levels.filter((l) => l.cidrs.length > 0).map((l) => ({ level: l.level, ranges: l.cidrs.map((c) => parseCidr(c)).filter((r): r is Cidr => r !== undefined) }));
  }

  get open(): boolean {
    return this.levels.length === 0;
  }

  /** The level whose allowlist refuses this address, or null when every level lets it in. */
  refusedBy(ip: string): IpLevel | null {
    const hit = this.memo.get(ip);
    if (hit !== undefined) return hit;
    const bytes = clientBytes(ip);
    let refused: IpLevel | null = null;
    for (const l of this.levels) {
      if (!bytes || !l.ranges.some((r) => inCidr(bytes, r))) {
        refused = l.level;
        break;
      }
    }
    if (this.memo.size >= MEMO) this.memo.clear();
    this.memo.set(ip, refused);
    return refused;
  }
}
