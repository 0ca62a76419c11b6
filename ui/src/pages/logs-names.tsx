// Names instead of ids in the request-log and audit tables (the API joins them in): a key or team
// reads as its name, links to its page, and keeps its id as secondary text and in the title, so
// "which key #40 was that" never needs a second look-up. Without a name the id stands alone.
import type { ComponentChildren } from 'preact';

type Kind = 'Key' | 'Team' | 'User';
const PAGES: Partial<Record<Kind, string>> = { Key: '/ui/keys/', Team: '/ui/teams/' };

/** A named object: its name (a link to its page when it has one), and "#id" under it. */
export function Named({ kind, id, name, inline }: { kind: Kind; id: number | string; name: string | null | undefined; inline?: boolean }) {
  const label = name || `${kind} #${id}`;
  const page = PAGES[kind];
  const main: ComponentChildren = page ? <a href={`${page}${id}`} title={`${kind} #${id}`}>{label}</a> : <span title={`${kind} #${id}`}>{label}</span>;
  if (!name) return main;
  return inline ? <>{main} <span class="muted mono small">#{id}</span></> : <>{main}<span class="ops-sub mono">#{id}</span></>;
}
