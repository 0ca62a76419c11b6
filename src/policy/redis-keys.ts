// Key names in Redis for cluster mode. Every key one admission touches carries the same hash tag,
// its organization's "shard" (`{o42}`), so that on Redis Cluster / Valkey Cluster they all live in
// one hash slot and one Lua script may touch them together (the cluster rule for scripts). On a
// single Redis the tag is just part of the name.
//
//   <prefix>{<shard>}:<counter key>          rl:…, cc:…, bg:… (built by the engine, see engine.ts)
//   <prefix>{<shard>}:rep:<instance>         what one replica holds on that shard (replica-ledger.ts)
//   <prefix>alive:<instance>                 a replica's heartbeat (any slot: never in a script with the above)
//   <prefix>replicas                         the replicas that beat
//   <prefix>shards:<instance>                the shards a replica has a ledger on
//
// One organization is therefore bounded by one shard (one Redis core): see docs/production.md,
// "Redis Cluster".

/** The shard of an organization's counters. */
export const shardOf = (orgId: number): string => `o${orgId}`;

/** Counters of plans that name no shard (store-level tests, tools). */
export const DEFAULT_SHARD = 'g';

/** The full name of a counter key on a shard. */
export const counterKey = (prefix: string, shard: string, key: string): string => `${prefix}{${shard}}:${key}`;

/** The ledger of one replica on one shard. */
export const ledgerKey = (prefix: string, shard: string, instance: string): string => `${prefix}{${shard}}:rep:${instance}`;

export const aliveKey = (prefix: string, instance: string): string => `${prefix}alive:${instance}`;
export const replicasKey = (prefix: string): string => `${prefix}replicas`;
export const shardsKey = (prefix: string, instance: string): string => `${prefix}shards:${instance}`;
