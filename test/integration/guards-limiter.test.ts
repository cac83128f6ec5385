// The cap limiter against a real redis-server: all-or-nothing leases over several caps, per-step
// caps inside a site, leases of a vanished worker lapsing instead of blocking the site, and leases
// of a running step put back after Redis lost them.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventorySchema } from '../../src/definitions/index.js';
import { capsFor, StepLimiter } from '../../src/queue/index.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

let server: RedisInstance;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const inventory = InventorySchema.parse({
  sites: {
    dev2: {
      hosts: '\\.dev2\\.internal$',
      manager: 'manager-0.dev2.internal',
      ssh: { user: 'runbot' },
      caps: { per_site: 3, per_step: { sync: 1 } },
    },
  },
});

describe('guards: cap limiter', () => {
  it('derives a step’s caps from the inventory and the global setting', () => {
    expect(capsFor({ kind: 'runStep', site: 'dev2', step: 'sync' }, inventory, 10)).toEqual([
      { key: 'global', limit: 10 },
      { key: 'site:dev2', limit: 3 },
      { key: 'step:dev2:sync', limit: 1 },
    ]);
    expect(capsFor({ kind: 'checkStep', site: 'dev2', step: 'sync' }, inventory, 10)).toEqual([]);
  });

  it('lets one sync run per site at a time while other steps still fit the site cap', async () => {
    const limiter = new StepLimiter(redis, { prefix: 'cap-test-1' });
    const caps = (step: string) => capsFor({ kind: 'runStep', site: 'dev2', step }, inventory, undefined);
    const sync = await limiter.tryAcquire(caps('sync'));
    expect(sync).toBeDefined();
    expect(await limiter.tryAcquire(caps('sync'))).toBeUndefined();
    const rebalance = await limiter.tryAcquire(caps('rebalance'));
    const blacklist = await limiter.tryAcquire(caps('blacklist-removal'));
    expect(rebalance && blacklist).toBeDefined();
    // The site is full now; a refused step holds nothing (all or nothing).
    expect(await limiter.tryAcquire(caps('second-sync'))).toBeUndefined();
    expect(await limiter.holders({ key: 'site:dev2' })).toBe(3);
    await sync?.release();
    expect(await limiter.tryAcquire(caps('sync'))).toBeDefined();
  });

  it('frees the place of a worker that died holding it, once its lease lapses', async () => {
    const limiter = new StepLimiter(redis, { prefix: 'cap-test-2' });
    const rules = [{ key: 'site:dev2', limit: 1 }];
    // What a worker killed mid-step leaves behind: a lease nobody renews or releases (300 ms left).
    const [seconds, micros] = await redis.time();
    await redis.zadd(
      'cap-test-2:cap:site:dev2',
      Number(seconds) * 1000 + Number(micros) / 1000 + 300,
      'dead',
    );
    expect(await limiter.tryAcquire(rules)).toBeUndefined();
    const next = await until('the lease to lapse', () => limiter.tryAcquire(rules));
    expect(await limiter.holders({ key: 'site:dev2' })).toBe(1);
    await next.release();
    expect(await limiter.holders({ key: 'site:dev2' })).toBe(0);
  });

  it('counts a running step again after Redis lost its lease (FLUSHALL)', async () => {
    const limiter = new StepLimiter(redis, { prefix: 'cap-test-3', leaseMs: 300 });
    const rules = [{ key: 'site:dev2', limit: 1 }];
    const lease = await limiter.tryAcquire(rules);
    expect(lease).toBeDefined();
    await redis.flushall();
    expect(await limiter.holders({ key: 'site:dev2' })).toBe(0);
    // The next renewal (a third of the lease) puts it back: the cap holds again.
    await until(
      'the renewal to put the lease back',
      async () => (await limiter.holders({ key: 'site:dev2' })) === 1,
    );
    expect(await limiter.tryAcquire(rules)).toBeUndefined();
    await lease?.release();
    expect(await limiter.holders({ key: 'site:dev2' })).toBe(0);
    const later = await limiter.tryAcquire(rules);
    expect(later).toBeDefined();
    await later?.release();
  });
});
