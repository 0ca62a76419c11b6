// deploy/kubernetes.yaml must not drift from the configuration: every environment variable name it
// sets (a Secret's keys loaded with envFrom, a container's env) is one src/config.ts reads, and the
// master key is mounted from a Secret as PROXY_MASTER_KEY (docs/production.md#kubernetes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
type Doc = { kind?: string; metadata?: { name?: string }; stringData?: Record<string, string>; data?: Record<string, string>; spec?: any };

const docs = loadAll(readFileSync(path.join(ROOT, 'deploy/kubernetes.yaml'), 'utf8')).filter(Boolean) as Doc[];
const secrets = new Map(docs.filter((d) => d.kind === 'Secret').map((d) => [d.metadata?.name ?? '', Object.keys({ ...d.data, ...d.stringData })]));
const containers = docs.filter((d) => d.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers as any[]);

/** The names src/config.ts reads: env.NAME, and the quoted variable names it passes to str/int/bool. */
function namesConfigReads(): Set<string> {
  const source = readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  for (const m of source.matchAll(/'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'/g)) names.add(m[1]!);
  return names;
}

test('every env var the manifest sets is one src/config.ts reads', () => {
  const read = namesConfigReads();
  const set: string[] = [];
  for (const c of containers) {
    for (const e of c.env ?? []) set.push(e.name);
    for (const from of c.envFrom ?? []) {
      const keys = secrets.get(from.secretRef?.name);
      assert.ok(keys, `envFrom names a Secret the manifest defines: ${from.secretRef?.name}`);
      set.push(...keys);
    }
  }
  assert.ok(set.length >= 8, `found ${set.length} names`);
  const unknown = set.filter((n) => !read.has(n));
  assert.deepEqual(unknown, [], `set in deploy/kubernetes.yaml but not read by src/config.ts: ${unknown.join(', ')}`);
});

test('the master key is a Secret mounted as PROXY_MASTER_KEY, and TOLLGATE_ADMIN_KEY is not also set', () => {
  const env = containers.flatMap((c) => c.env ?? []);
  const master = env.find((e: any) => e.name === 'PROXY_MASTER_KEY');
  assert.ok(master?.valueFrom?.secretKeyRef, 'PROXY_MASTER_KEY comes from a Secret');
  assert.ok(secrets.get(master.valueFrom.secretKeyRef.name)?.includes(master.valueFrom.secretKeyRef.key), 'from a Secret the manifest defines');
  const everywhere = [...env.map((e: any) => e.name), ...[...secrets.values()].flat()];
  assert.ok(!everywhere.includes('TOLLGATE_ADMIN_KEY'), 'one name for the master key (both set and different stops start-up)');
});
