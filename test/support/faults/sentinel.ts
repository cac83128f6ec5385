// Redis as users run it for high availability: a master, a replica of it, and a sentinel watching
// them (Debian's redis-server and redis-sentinel: the sentinel is `redis-server --sentinel`), each
// started on a free loopback port and stopped by PID. The test can kill the master and wait for the
// sentinel to promote the replica.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type RedisInstance } from '../../../src/sandbox/redis.js';
import { until } from '../poll.js';

export const MASTER_NAME = 'runbot';

export interface SentinelSet {
  /** `host:port` of the sentinel (REDIS_SENTINELS). */
  sentinels: string;
  master: RedisInstance;
  replica: RedisInstance;
  /** The URL of the server the sentinel names as master now. */
  masterUrl(): Promise<string>;
  /** SIGKILL the master by PID, then wait until the sentinel has promoted the replica. */
  killMasterAndFailOver(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSentinelSet(): Promise<SentinelSet> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runbot-sentinel-'));
  const started: RedisInstance[] = [];
  const stop = async () => {
    for (const server of started.reverse()) await server.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const master = await startRedis();
    started.push(master);
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    started.push(replica);
    const config = path.join(dir, 'sentinel.conf');
    await writeFile(
      config,
      [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    const sentinel = await startRedis({ configFile: config, args: ['--sentinel'], dir });
    started.push(sentinel);
    const ask = new Redis(sentinel.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    const masterAddress = async () =>
      (await ask.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];

    // The replica is in sync and the sentinel knows it: only then can it be promoted.
    const replicaClient = new Redis(replica.url, { maxRetriesPerRequest: 1 });
    try {
      await until('the replica to sync with the master', async () =>
        /master_link_status:up/.test(await replicaClient.info('replication')),
      );
    } finally {
      replicaClient.disconnect();
    }
    await until(
      'the sentinel to find the replica',
      async () => ((await ask.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[]).length > 0,
      { timeoutMs: 30_000, everyMs: 100 },
    );

    return {
      sentinels: `127.0.0.1:${sentinel.port}`,
      master,
      replica,
      async masterUrl() {
        const [host, port] = await masterAddress();
        return `redis://${host}:${port}`;
      },
      async killMasterAndFailOver() {
        process.kill(master.pid, 'SIGKILL');
        await master.stop();
        await until(
          'the sentinel to promote the replica',
          async () => (await masterAddress())[1] === String(replica.port),
          { timeoutMs: 60_000, everyMs: 100 },
        );
      },
      async stop() {
        ask.disconnect();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
