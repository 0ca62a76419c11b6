// Names instead of ids in the request logs (the API joins them in): a key, user or team
// reads as its name, keys and teams link to their pages, and the id stays in the title (beside the
// name in the drawer), so "which key #40 was that" needs no second look-up. Without a name the id stands alone.
import type { ComponentChildren } from 'preact';

type Kind = 'Key' | 'Team' | 'User';
const PAGES: Partial<Record<Kind, string>> = { Key: '/ui/keys/', Team: '/ui/teams/' };

/**
 * A named object: its name, a link to its page when it has one. In a table (the default) the id is
 * in its title; `inline` (the drawer) writes it after the name.
 */
export function Named({ kind, id, name, inline }: { kind: Kind; id: number | string; name: string | null | undefined; inline?: boolean }) {
  const label = name || `${kind} #${id}`;
  const title = name ? `${kind} #${id}: ${name}` : label;
  const page = PAGES[kind];
  const cls = inline ? undefined : 'ops-name';
  const main: ComponentChildren = page ? <a href={`${page}${id}`} class={cls} title={title}>{label}</a> : <span class={cls} title={title}>{label}</span>;
  return inline && name ? <>{main} <span class="muted mono small">#{id}</span></> : main;
}
