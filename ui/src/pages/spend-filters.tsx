// The spend explorer's toolbar: group by, time range (presets or custom dates), filters (team,
// key, model) and the chart's measure. Every change becomes the page's URL (spend-view.ts), so
// the view is what a reload or a shared link shows. Team and model choices are the ones with the
// most traffic in the range (GET /api/usage grouped by them, order=requests), so the lists stay
// short in a large organization.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Field, Select, TextInput } from '../components/form.tsx';
import { Button } from '../components/ui.tsx';
import { useApi, useDebounced } from '../components/use-api.ts';
import { api } from '../api/generated.ts';
import { myTeams } from '../session.ts';
import { groupLabel } from './spend-data.ts';
import { GROUPS, hoursAllowed, MEASURES, PRESETS, rangeOf, type View } from './spend-view.ts';

/** Teams and models offered in the filters: the busiest of the range. */
const TOP_CHOICES = 1000;

export function SpendFilters({ view, today, onChange }: { view: View; today: string; onChange: (v: View) => void }) {
  // Hours are kept HOURLY_DAYS days: a longer range grouped by hour falls back to days.
  const set = (patch: Partial<View>) => {
    const next = { ...view, ...patch };
    onChange(next.group === 'hour' && !hoursAllowed(next, today) ? { ...next, group: 'day' } : next);
  };
  const filtered = view.teamId !== undefined || view.keyId !== undefined || view.model !== undefined;
  const range = { from: view.from, to: view.to };
  // The busiest TOP_CHOICES of the range (ranked by the API), then listed by name.
  const top = (group_by: 'team' | 'model', signal: AbortSignal) => api.getUsage({ query: { group_by, ...range, order: 'requests', limit: TOP_CHOICES }, options: { signal } });
  const teams = useApi((signal) => top('team', signal), [view.from, view.to]);
  const models = useApi((signal) => top('model', signal), [view.from, view.to]);

  const teamOptions = useMemo(() => {
    const seen = new Map<string, string>();
    for (const t of myTeams.value) seen.set(String(t.id), t.name);
    for (const r of teams.data?.data ?? []) if (r.team_id != null) seen.set(String(r.team_id), groupLabel(r, 'team'));
    if (view.teamId !== undefined && !seen.has(String(view.teamId))) seen.set(String(view.teamId), `Team ${view.teamId}`);
    return [{ value: '', label: 'All teams' }, ...[...seen].sort((a, b) => a[1].localeCompare(b[1])).map(([value, label]) => ({ value, label }))];
  }, [teams.data, view.teamId]);
  const modelOptions = useMemo(() => {
    const names = new Set((models.data?.data ?? []).map((r) => r.model ?? '').filter(Boolean));
    if (view.model) names.add(view.model);
    return [{ value: '', label: 'All models' }, ...[...names].sort().map((m) => ({ value: m, label: m }))];
  }, [models.data, view.model]);

  // The key id is typed: applied once typing settles, not on every keystroke.
  const [keyText, setKeyText] = useState(view.keyId === undefined ? '' : String(view.keyId));
  const settledKey = useDebounced(keyText, 500);
  useEffect(() => setKeyText(view.keyId === undefined ? '' : String(view.keyId)), [view.keyId]);
  useEffect(() => {
    const keyId = /^\d+$/.test(settledKey.trim()) ? Number(settledKey.trim()) : undefined;
    if (keyId !== view.keyId && (settledKey.trim() === '' || keyId !== undefined)) set({ keyId });
  }, [settledKey]);

  const groups = GROUPS.filter((g) => g.value !== 'hour' || hoursAllowed(view, today) || view.group === 'hour');
  return (
    <div class="toolbar spend-filters" role="search" aria-label="Spend filters">
      <Field name="group" label="Group by"><Select name="group" value={view.group} onValue={(group) => set({ group })} options={groups} /></Field>
      <Field name="range" label="Time range">
        <Select name="range" value={view.preset} onValue={(preset) => set({ preset, ...rangeOf(preset, today, view) })} options={PRESETS} />
      </Field>
      {view.preset === 'custom' && (
        <>
          <Field name="from" label="From (UTC)"><TextInput name="from" type="date" value={view.from} max={view.to} onValue={(from) => from && set({ from })} /></Field>
          <Field name="to" label="To (UTC, inclusive)"><TextInput name="to" type="date" value={view.to} min={view.from} onValue={(to) => to && set({ to })} /></Field>
        </>
      )}
      <Field name="team_id" label="Team"><Select name="team_id" value={view.teamId === undefined ? '' : String(view.teamId)} onValue={(v) => set({ teamId: v ? Number(v) : undefined })} options={teamOptions} /></Field>
      <Field name="model" label="Model"><Select name="model" value={view.model ?? ''} onValue={(v) => set({ model: v || undefined })} options={modelOptions} /></Field>
      <Field name="key_id" label="Key ID"><TextInput name="key_id" value={keyText} onValue={setKeyText} placeholder="any" /></Field>
      <Field name="measure" label="Chart shows"><Select name="measure" value={view.measure} onValue={(measure) => set({ measure })} options={MEASURES} /></Field>
      {filtered && <Button variant="ghost" onClick={() => set({ teamId: undefined, keyId: undefined, model: undefined })}>Clear filters</Button>}
    </div>
  );
}
