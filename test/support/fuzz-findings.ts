// Failures of a fuzz run, grouped into classes (kind + status/code + fault location), each kept
// with its count, the routes it showed on and its smallest reproduction. A run records every
// failure and reports all classes at the end, rather than stopping at the first one: one run
// tells the owners everything that is broken.
import type { Violation } from './fuzz-checks.ts';
import type { Sent } from './fuzz-transport.ts';

interface FailureClass {
  violation: Violation;
  count: number;
  routes: Set<string>;
  repro: Sent;
  size: number;
  status: number | undefined;
}

const sizeOf = (s: Sent) => s.path.length + (s.body?.length ?? 0) + s.headers.reduce((n, [k, v]) => n + k.length + v.length, 0);

export class Findings {
  private readonly classes = new Map<string, FailureClass>();
  /** secret values → the names printed in their place */
  private readonly redact: Array<[string, string]>;
  statuses = new Map<number | string, number>();
  /** requests that got no answer within the transport's timeout */
  hangs = 0;

  constructor(secrets: Record<string, string>) {
    this.redact = Object.entries(secrets).filter(([, v]) => v).map(([name, v]) => [v, `<${name}>`]);
  }

  get size(): number {
    return this.classes.size;
  }

  seen(status: number | string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  add(v: Violation, route: string, sent: Sent, status: number | undefined): void {
    const key = `${v.kind}|${v.label}`;
    const c = this.classes.get(key);
    const size = sizeOf(sent);
    if (!c) {
      this.classes.set(key, { violation: v, count: 1, routes: new Set([route]), repro: sent, size, status });
      return;
    }
    c.count++;
    c.routes.add(route);
    // A logged error may be the lasting effect of an earlier request: its first case is the lead.
    if (size < c.size && v.kind !== 'error-logged') Object.assign(c, { repro: sent, size, status, violation: v });
  }

  report(title: string, replay: string): string {
    const lines = [`${title}: ${this.classes.size} failure class(es). Replay: ${replay}`];
    const sorted = [...this.classes.values()].sort((a, b) => b.count - a.count);
    for (const c of sorted) {
      const routes = [...c.routes];
      lines.push('', `[${c.violation.kind}] ${this.clean(c.violation.label)}`);
      lines.push(`  ${c.count} case(s) on ${routes.length} route(s): ${routes.slice(0, 8).join(', ')}${routes.length > 8 ? ', …' : ''}`);
      lines.push(`  ${c.violation.kind === 'error-logged' ? 'first' : 'smallest'}: ${this.describe(c.repro)}`.replace(/\n/g, '\n  '));
      lines.push(`  answer: ${c.status ?? '-'} ${this.clean(c.violation.detail.slice(0, 240))}`);
    }
    return lines.join('\n');
  }

  /** A printable request: method, target, headers, body (long parts elided with their length). */
  describe(s: Sent): string {
    const out = [`${s.method} ${this.clip(s.path, 160)}${s.raw ? `   (raw socket, tweak: ${s.raw})` : ''}`];
    for (const [k, v] of s.headers) out.push(`${k}: ${this.clip(v, 120)}`);
    if (s.body !== undefined) out.push(`body (${s.body.length} bytes): ${this.clip(s.body.toString('utf8'), 300)}`);
    return out.join('\n  ');
  }

  private clip(text: string, max: number): string {
    const clean = this.clean(text);
    return clean.length <= max ? JSON.stringify(clean).slice(1, -1) : `${JSON.stringify(clean.slice(0, max)).slice(1, -1)}…(${clean.length} chars)`;
  }

  private clean(text: string): string {
    let out = text;
    for (const [v, name] of this.redact) out = out.split(v).join(name);
    return out;
  }
}
