// Every Redis client runbot opens is made here, so that each one (BullMQ's queues and workers, the
// caps, pause, epoch, breakers, slot hand-on, readiness and the CLI) reaches Redis the same way:
// one server (REDIS_URL), a master found through Sentinel (REDIS_SENTINELS), or a Redis Cluster
// (REDIS_CLUSTER_NODES). In a cluster, a Lua script may only touch keys of one hash slot: every key
// runbot and BullMQ write starts with RUNBOT_QUEUE_PREFIX, which then must be a brace hash tag such
// as `{runbot}` (config.ts checks it), so they all live in one slot, on one master and its replicas.
import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { sentinelOptions, type HostPort, type SentinelSettings } from './sentinel.js';

/** A client of one server (or a sentinel-found master), or of a cluster: the commands runbot uses are the same. */
export type RedisClient = Redis | Cluster;

export interface RedisSettings {
  /** The server; with sentinels or cluster nodes it gives only the user, password, db and TLS (`rediss://`). */
  redisUrl: string;
  /** Follow these sentinels to the master (REDIS_SENTINELS). */
  sentinel?: SentinelSettings;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES): the client learns the others from them. */
  cluster?: HostPort[];
}

export interface ClientOptions {
  /** Tries of a command over reconnections before it fails (`null`: for ever, as BullMQ needs). */
  maxRetriesPerRequest: number | null;
  lazyConnect?: boolean;
  enableOfflineQueue?: boolean;
  connectTimeout?: number;
  /** Give up when the connection fails instead of reconnecting (a one-off look from the CLI). */
  noReconnect?: boolean;
  /** Commands made in one turn of the event loop go out in one write (ioredis auto-pipelining):
   * for a client many jobs use at once (pause, caps, breakers), one syscall instead of one each.
   * One server or Sentinel only: a cluster client sends each command as it comes, as before. */
  autoPipelining?: boolean;
}

/** A new client for these settings; the caller disconnects it. */
export function createRedis(settings: RedisSettings, options: ClientOptions): RedisClient {
  const { noReconnect, lazyConnect, enableOfflineQueue, autoPipelining, ...perConnection } = options;
  const common = {
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
  };
  if (settings.cluster !== undefined && settings.cluster.length > 0) {
    const clusterOptions: ClusterOptions = {
      ...common,
      // No CLUSTER INFO check before `ready`: while a failed master awaits its replica's promotion
      // the check fails, and ioredis then reconnects on its own but never settles the connect()
      // promise it was called from; BullMQ's blocking connection awaits that promise when it
      // resets a stuck BZPOPMIN, so the Worker would wait for ever (test/faults/cluster-failover).
      // Commands sent meanwhile get CLUSTERDOWN or MOVED, which ioredis retries (retryDelayOn*).
      enableReadyCheck: false,
      redisOptions: { ...clusterNodeOptions(settings.redisUrl), ...perConnection },
      ...(noReconnect ? { clusterRetryStrategy: () => null } : {}),
    };
    return new Cluster(settings.cluster, clusterOptions);
  }
  const redisOptions: RedisOptions = {
    ...sentinelOptions(settings.sentinel),
    ...common,
    ...(autoPipelining ? { enableAutoPipelining: true } : {}),
    ...perConnection,
    ...(noReconnect ? { retryStrategy: () => null } : {}),
  };
  return new Redis(settings.redisUrl, redisOptions);
}

/** What BullMQ's Queue and Worker take as `connection`, and how to let it go after they close. */
export interface BullConnection {
  connection: ConnectionOptions;
  /** Disconnects what this module opened (BullMQ does not close a client it was given). */
  close(): void;
}

/**
 * One server or Sentinel: options, and BullMQ opens (and closes) its own connections. A cluster:
 * one client, shared by the queues or workers it is given to (a Worker duplicates it for its
 * blocking connection), disconnected by close().
 */
export function bullConnection(settings: RedisSettings): BullConnection {
  if (settings.cluster === undefined || settings.cluster.length === 0) {
    return {
      connection: {
        url: settings.redisUrl,
        maxRetriesPerRequest: null,
        ...sentinelOptions(settings.sentinel),
      },
      close: () => undefined,
    };
  }
  const cluster = createRedis(settings, { maxRetriesPerRequest: null }) as Cluster;
  return { connection: cluster, close: () => cluster.disconnect() };
}

/** The hash tag a prefix starts with (`{runbot}-prod` → `runbot`), if it starts with one. */
export function hashTag(prefix: string): string | undefined {
  return /^\{([^{}]+)\}/.exec(prefix)?.[1];
}

/** REDIS_URL's user, password and TLS, for each node of a cluster (its host and port are not used). */
function clusterNodeOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
