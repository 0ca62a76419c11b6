// TOLLGATE_REDIS_URL: one redis:// or rediss:// URL, or (Redis Cluster) seed nodes separated by
// commas. Kept apart from redis.ts so that reading the configuration does not load the client.

/** The seed URLs of a (possibly comma-separated) TOLLGATE_REDIS_URL; throws naming the bad entry (never its password). */
export function redisUrls(list: string): URL[] {
  return list.split(',').map((raw, i) => {
    const entry = raw.trim();
    const where = list.includes(',') ? `TOLLGATE_REDIS_URL (entry ${i + 1} of the comma-separated list)` : 'TOLLGATE_REDIS_URL';
    if (!/^rediss?:\/\//.test(entry)) throw new Error(`${where} must start with redis:// or rediss://`);
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`${where} is not a valid URL`);
    }
    if (!url.hostname) throw new Error(`${where} names no host`);
    return url;
  });
}

/** The URL list with passwords masked, for messages. */
export function redactRedisUrl(list: string): string {
  return list.split(',').map((raw) => {
    try {
      const u = new URL(raw.trim());
      if (u.password) u.password = '***';
      return u.toString();
    } catch {
      return '(malformed)';
    }
  }).join(',');
}
