// Running Lua scripts on Redis: EVALSHA, then EVAL when Redis does not know the script yet (first
// use, or after a restart or SCRIPT FLUSH; EVAL also caches it for next time). Shared by the
// counter store and the replica ledger.
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis.ts';

export interface Script { lua: string; sha: string }
export type Reply = Array<number | string>;
/** A batch's reply: one array per admission. */
export type NestedReply = Array<Array<number | string>>;

export const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/** `keys` are full key names (prefix included). */
export async function evalScript<R = Reply>(redis: RedisClient, s: Script, keys: string[], args: Array<string | number>): Promise<R> {
  try {
    return (await redis.evalsha(s.sha, keys.length, ...keys, ...args)) as R;
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return (await redis.eval(s.lua, keys.length, ...keys, ...args)) as R;
  }
}
