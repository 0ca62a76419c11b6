// How the API subcommands print: the API's JSON as it came (scripts pipe it to jq), or with
// --table a short aligned table of the columns that matter, for people.

export function asJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).replace(/\s+/g, ' ');
}

/** A listing's `data` (or one object, as a one-row table) under the given columns. */
export function asTable(value: unknown, columns: string[]): string {
  const rows = (Array.isArray((value as { data?: unknown })?.data) ? (value as { data: unknown[] }).data : [value]) as Array<Record<string, unknown>>;
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => cell(r?.[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
