import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { bullConnection, createRedis, hashTag } from '../../src/queue/index.js';

const cluster = [
  { host: 'redis-1.internal', port: 6379 },
  { host: 'redis-2.internal', port: 6379 },
];

describe('redis connection factory: one server, Sentinel or a cluster, from the same settings', () => {
  it('makes a cluster client with REDIS_URL giving only user, password and TLS', () => {
    const client = createRedis(
      { redisUrl: 'rediss://runbot:p%40ss@ignored.example:1234', cluster },
      { maxRetriesPerRequest: 3, lazyConnect: true },
    );
    try {
      expect(client).toBeInstanceOf(Cluster);
      const options = (client as Cluster).options;
      expect(options.redisOptions).toMatchObject({
        username: 'runbot',
        password: 'p@ss',
        tls: {},
        maxRetriesPerRequest: 3,
      });
      expect(options.redisOptions).not.toHaveProperty('host');
      // Without it a Worker stops for good after a failover (test/faults/cluster-failover.test.ts).
      expect(options.enableReadyCheck).toBe(false);
    } finally {
      client.disconnect();
    }
  });

  it('makes a one-server client, following sentinels when given', () => {
    const plain = createRedis(
      { redisUrl: 'redis://127.0.0.1:6399' },
      { maxRetriesPerRequest: 1, lazyConnect: true },
    );
    const sentinel = createRedis(
      {
        redisUrl: 'redis://:pw@ignored:6379',
        sentinel: { sentinels: [{ host: 's1', port: 26379 }], name: 'm' },
      },
      { maxRetriesPerRequest: 1, lazyConnect: true },
    );
    try {
      expect(plain).toBeInstanceOf(Redis);
      expect((plain as Redis).options).toMatchObject({ port: 6399, maxRetriesPerRequest: 1 });
      expect((sentinel as Redis).options).toMatchObject({ name: 'm', password: 'pw' });
    } finally {
      plain.disconnect();
      sentinel.disconnect();
    }
  });

  it('pipelines automatically only the one-server clients that ask for it, not a cluster', () => {
    const shared = createRedis(
      { redisUrl: 'redis://127.0.0.1:6399' },
      { maxRetriesPerRequest: 1, lazyConnect: true, autoPipelining: true },
    );
    const plain = createRedis(
      { redisUrl: 'redis://127.0.0.1:6399' },
      { maxRetriesPerRequest: 1, lazyConnect: true },
    );
    const cluster = createRedis(
      { redisUrl: 'redis://127.0.0.1:6399', cluster: [{ host: '127.0.0.1', port: 7000 }] },
      { maxRetriesPerRequest: 1, lazyConnect: true, autoPipelining: true },
    );
    try {
      expect((shared as Redis).options.enableAutoPipelining).toBe(true);
      expect((plain as Redis).options.enableAutoPipelining).toBe(false);
      expect((cluster as Cluster).options.enableAutoPipelining).toBe(false);
    } finally {
      shared.disconnect();
      plain.disconnect();
      cluster.disconnect();
    }
  });

  it('gives BullMQ options for one server, and one shared cluster client it closes itself', () => {
    expect(bullConnection({ redisUrl: 'redis://h:1' }).connection).toMatchObject({
      url: 'redis://h:1',
      maxRetriesPerRequest: null,
    });
    // Loopback seeds on a closed port: this client connects at once (BullMQ expects it to).
    const loopback = [{ host: '127.0.0.1', port: 1 }];
    const shared = bullConnection({ redisUrl: 'redis://h:1', cluster: loopback });
    try {
      expect(shared.connection).toBeInstanceOf(Cluster);
      // BullMQ's blocking connections require it.
      expect((shared.connection as Cluster).options.redisOptions?.maxRetriesPerRequest).toBeNull();
    } finally {
      shared.close();
    }
    expect(['disconnecting', 'end']).toContain((shared.connection as Cluster).status);
  });

  it('reads the hash tag a prefix starts with', () => {
    expect(hashTag('{runbot}')).toBe('runbot');
    expect(hashTag('{prod}-runbot')).toBe('prod');
    expect(hashTag('runbot')).toBeUndefined();
  });
});
