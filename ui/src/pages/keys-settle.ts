// How long the keys page's search and tag boxes wait after the last keystroke before asking the
// server: long enough not to send a request per letter, short enough to feel immediate. In its
// own module so bench/ui-keys-search.ts (which runs in Node, not the browser) can read it.
export const SETTLE_MS = 120;
