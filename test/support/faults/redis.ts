// A redis-server the fault tests can flush, stop and start again on the same port, so that every
// worker and poller (which know only REDIS_URL) reconnects to it. The first start goes through the
// shared helper (free port, retries); restarts spawn redis-server with the same flags on the old port.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, type RedisInstance } from '../../../src/sandbox/redis.js';
import { until } from '../poll.js';

export interface RestartableRedis {
  readonly url: string;
  readonly port: number;
  /** FLUSHALL: every queued, active and finished job is gone at once. */
  flushAll(): Promise<void>;
  /** Stops the server (SIGKILL by PID when `hard`, else SIGTERM) and waits for its exit. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts an empty server on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export async function startRestartableRedis(): Promise<RestartableRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runbot-faults-redis-'));
  let first: RedisInstance | undefined = await startRedis({ dir });
  const { url, port } = first;
  let child: ChildProcess | undefined;
  let output = '';

  const running = () =>
    first !== undefined || (child !== undefined && child.exitCode === null && child.signalCode === null);

  async function stop(options: { hard?: boolean } = {}): Promise<void> {
    if (first) {
      if (options.hard) process.kill(first.pid, 'SIGKILL');
      await first.stop();
      first = undefined;
    }
    const current = child;
    if (current && current.exitCode === null && current.signalCode === null && current.pid !== undefined) {
      const exited = once(current, 'exit');
      process.kill(current.pid, options.hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    }
    child = undefined;
  }

  async function start(): Promise<void> {
    if (running())
      throw new Error(`redis on port ${port} is still running: stop it before starting it again`);
    output = '';
    // The same flags as src/sandbox/redis.ts: no persistence, noeviction (BullMQ needs it).
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
       '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--dir', dir], // prettier-ignore
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const started = child;
    await until(
      `redis-server to answer PING again on port ${port}`,
      async () => {
        if (started.exitCode !== null) {
          throw new Error(`redis-server exited on restart (port ${port} taken?):\n${output}`);
        }
        return (await ping(url)) || undefined;
      },
      { timeoutMs: 15_000, everyMs: 50 },
    );
  }

  return {
    url,
    port,
    async flushAll() {
      const client = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
