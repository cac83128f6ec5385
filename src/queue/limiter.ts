// Blast-radius caps shared by every worker process: at most N steps at once per site, per step of a
// site, and overall. BullMQ's group concurrency is Pro-only, so this is our own Redis semaphore:
// one sorted set per cap, a member per running step scored by its lease's expiry. Acquiring all of
// a step's caps is one Lua script (all or nothing); a worker that dies stops renewing and its
// leases lapse within `leaseMs`, so a crash never leaves a site blocked.
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connection.js';

/** One cap a step counts against: `site:dev2` 3, `step:dev2:sync` 1, `global` 20. */
export interface CapRule {
  key: string;
  limit: number;
}

export interface Lease {
  /** Frees the step's places in every cap it holds. */
  release(): Promise<void>;
}

// KEYS: the caps' sorted sets. ARGV: holder, lease ms, then one limit per key.
// Redis' own clock, so the workers' clocks need not agree.
const ACQUIRE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holder = ARGV[1]
local lease = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZSCORE', key, holder) == false and redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    return 0
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, holder)
  redis.call('PEXPIRE', key, lease * 2)
end
return 1
`;

// Not ZADD XX: a renewal puts back a lease that Redis lost (FLUSHALL, an empty restart), so steps
// still running count against their caps again within a third of the lease. release() stops the
// renewals before it removes the lease, and one connection keeps their order.
const RENEW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2]) * 2)
end
return 1
`;

export interface StepLimiterOptions {
  /** Key prefix, e.g. the queue prefix: keys are `<prefix>:cap:<rule>`. */
  prefix: string;
  /** How long a lease lives without renewal; renewed every third of it. Default 60 s. */
  leaseMs?: number;
}

export class StepLimiter {
  private readonly leaseMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: StepLimiterOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  /** A lease on every rule, or undefined when any of them is full (nothing is then held). */
  async tryAcquire(rules: CapRule[]): Promise<Lease | undefined> {
    if (rules.length === 0) return { release: () => Promise.resolve() };
    const keys = rules.map((rule) => this.keyOf(rule));
    const holder = randomUUID();
    const granted = await this.redis.eval(
      ACQUIRE,
      keys.length,
      ...keys,
      holder,
      String(this.leaseMs),
      ...rules.map((rule) => String(rule.limit)),
    );
    if (granted !== 1) return undefined;
    const renewal = setInterval(() => {
      this.redis.eval(RENEW, keys.length, ...keys, holder, String(this.leaseMs)).catch(() => undefined);
    }, this.leaseMs / 3);
    renewal.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        const pipeline = this.redis.pipeline();
        for (const key of keys) pipeline.zrem(key, holder);
        await pipeline.exec();
      },
    };
  }

  /** Whether every rule has a free place now (a cheap look before work; tryAcquire decides). */
  async hasRoom(rules: CapRule[]): Promise<boolean> {
    for (const rule of rules) {
      if ((await this.holders(rule)) >= rule.limit) return false;
    }
    return true;
  }

  /** Steps holding a place in the cap right now (metrics, tests). */
  async holders(rule: Pick<CapRule, 'key'>): Promise<number> {
    const key = this.keyOf(rule);
    const now = await this.redis.time();
    await this.redis.zremrangebyscore(key, '-inf', Number(now[0]) * 1000);
    return this.redis.zcard(key);
  }

  private keyOf(rule: Pick<CapRule, 'key'>): string {
    return `${this.options.prefix}:cap:${rule.key}`;
  }
}
