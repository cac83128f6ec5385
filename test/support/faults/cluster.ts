// A small Redis Cluster as users run one: Debian's redis-server in cluster mode, `masters` masters
// (each with `replicas` replicas), on free loopback ports, each in its own temp dir (its nodes.conf)
// and stopped by PID; joined with `redis-cli --cluster create`. The test can kill the master that
// serves a hash tag and wait until the cluster has promoted its replica.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findFreePort, startRedis, type RedisInstance } from '../../../src/sandbox/redis.js';
import { until } from '../poll.js';

const HOST = '127.0.0.1';
/** How long a silent node takes to be marked failed (and its replica promoted). */
const NODE_TIMEOUT_MS = 1_000;

export interface RedisCluster {
  nodes: RedisInstance[];
  /** `host:port,…` of every node (REDIS_CLUSTER_NODES). */
  seeds: string;
  /** The URL of the master serving keys with this hash tag now (e.g. `runbot` for `{runbot}:…`). */
  masterUrlFor(tag: string): Promise<string>;
  /**
   * SIGKILL the master serving this hash tag, then wait until a replica serves its slot. With
   * `downForMs`, its replicas are frozen (SIGSTOP) before the kill and thawed (SIGCONT) only once
   * the cluster has reported itself down (cluster_state:fail) for that long: a failover that takes
   * a while, as with production's longer cluster-node-timeout or a slow election.
   */
  killMasterOf(
    tag: string,
    options?: { downForMs?: number },
  ): Promise<{ killed: RedisInstance; promoted: string }>;
  stop(): Promise<void>;
}

export async function startRedisCluster(
  options: { masters?: number; replicas?: number } = {},
): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const nodes: RedisInstance[] = [];
  const clients: Redis[] = [];
  /** Replicas held by SIGSTOP: never asked anything (they would not answer); thawed before stopping. */
  const frozen = new Set<RedisInstance>();
  const thaw = () => {
    for (const node of frozen) process.kill(node.pid, 'SIGCONT');
    frozen.clear();
  };
  const stop = async () => {
    thaw();
    for (const client of clients) client.disconnect();
    await Promise.all(nodes.map((node) => node.stop().catch(() => undefined)));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i += 1) {
      nodes.push(
        await startRedis({
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
            // A replica may take over however long ago it last heard from its master.
            '--cluster-replica-validity-factor', '0',
            // The bus port is port + 10000 unless named: a free port of its own, so it never passes 65535.
            '--cluster-port', String(await findFreePort()),
          ],
        }),
      ); // prettier-ignore
    }
    const addresses = nodes.map((node) => `${HOST}:${node.port}`);
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 60_000 },
    ).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${error.message}\n${error.stdout ?? ''}`);
    });
    const live = new Map<number, Redis>();
    const client = (node: RedisInstance) => {
      let found = live.get(node.port);
      if (found === undefined) {
        found = new Redis(node.port, HOST, {
          maxRetriesPerRequest: 1,
          retryStrategy: () => null,
          // A node that does not answer fails the look (and the wait around it), never hangs it.
          commandTimeout: 5_000,
        });
        found.on('error', () => undefined);
        live.set(node.port, found);
        clients.push(found);
      }
      return found;
    };
    const alive = () => nodes.filter((node) => !stopped.has(node.port) && !frozen.has(node));
    const stopped = new Set<number>();
    const ok = async () => {
      for (const node of alive()) {
        const info = await client(node).cluster('INFO');
        if (!/cluster_state:ok/.test(info)) return false;
      }
      return true;
    };
    await until('every cluster node to report cluster_state:ok', ok, { timeoutMs: 60_000, everyMs: 100 });
    // Every replica has its master's data: only then can it take over.
    await until(
      'every replica to sync with its master',
      async () => {
        for (const node of nodes) {
          const info = await client(node).info('replication');
          if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, everyMs: 100 },
    );

    /** The port of the master serving `tag`'s slot, as a live node sees it. */
    const masterPortFor = async (tag: string) => {
      const asker = client(alive()[0]!);
      const slot = await asker.cluster('KEYSLOT', tag);
      const ranges = await asker.cluster('SLOTS');
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      const master = range?.[2];
      if (master === undefined) throw new Error(`no node serves slot ${slot} ({${tag}})`);
      return master[1];
    };

    /** The live replicas of the master on `port`. */
    const replicasOf = async (port: number) => {
      const found: RedisInstance[] = [];
      for (const node of alive()) {
        const info = await client(node).info('replication');
        if (/role:slave/.test(info) && new RegExp(`master_port:${port}\\b`).test(info)) found.push(node);
      }
      if (found.length === 0) throw new Error(`the master on port ${port} has no replica to freeze`);
      return found;
    };

    return {
      nodes,
      seeds: addresses.join(','),
      async masterUrlFor(tag) {
        return `redis://${HOST}:${await masterPortFor(tag)}`;
      },
      async killMasterOf(tag, options = {}) {
        const port = await masterPortFor(tag);
        const killed = nodes.find((node) => node.port === port)!;
        const replicas = options.downForMs === undefined ? [] : await replicasOf(port);
        for (const replica of replicas) {
          frozen.add(replica);
          process.kill(replica.pid, 'SIGSTOP');
        }
        try {
          stopped.add(port);
          client(killed).disconnect();
          process.kill(killed.pid, 'SIGKILL');
          await killed.stop();
          if (options.downForMs !== undefined) {
            const down = async () =>
              /cluster_state:fail/.test(await client(alive()[0]!).cluster('INFO')) ? Date.now() : undefined;
            const since = await until('the cluster to report itself down', down, {
              timeoutMs: 30_000,
              everyMs: 50,
            });
            await until(
              `the cluster to stay down for ${options.downForMs} ms`,
              async () => {
                if ((await down()) === undefined)
                  throw new Error('the cluster came back with its replicas frozen');
                return Date.now() - since >= options.downForMs!;
              },
              { timeoutMs: options.downForMs + 30_000, everyMs: 100 },
            );
          }
        } finally {
          thaw();
        }
        const promoted = await until(
          'a replica to take over the killed master',
          async () => {
            const now = await masterPortFor(tag).catch(() => port);
            return now !== port && (await ok().catch(() => false)) ? now : undefined;
          },
          { timeoutMs: 60_000, everyMs: 100 },
        );
        return { killed, promoted: `redis://${HOST}:${promoted}` };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
