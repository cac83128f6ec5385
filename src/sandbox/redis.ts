// A throwaway redis-server on loopback for the demo and the tests: no config file, no persistence,
// `noeviction` (BullMQ requires it: https://docs.bullmq.io/guide/going-to-production#max-memory-policy),
// stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisInstance {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM by PID, wait for the exit, then remove the temp dir (if this module made it). */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Working directory for redis-server; a temp dir (removed on stop) when absent. */
  dir?: string;
  /** The redis-server binary; `redis-server` from PATH by default. */
  binary?: string;
  /** How long to wait for the first PONG. */
  readyTimeoutMs?: number;
  /** A config file, given first (a sentinel needs one it can write: `--sentinel` in `args`). */
  configFile?: string;
  /** More flags after the defaults, e.g. `['--replicaof', '127.0.0.1', '6379']`. */
  args?: string[];
}

export class RedisStartError extends Error {
  constructor(
    message: string,
    readonly outputTail: string,
  ) {
    super(outputTail ? `${message}\n${outputTail}` : message);
    this.name = 'RedisStartError';
  }
}

const HOST = '127.0.0.1';
const OUTPUT_TAIL_CHARS = 4_000;
const PING_INTERVAL_MS = 25;
const STOP_GRACE_MS = 5_000;
const START_ATTEMPTS = 3;

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisInstance> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'runbot-redis-')));
  try {
    // The free port is found by binding port 0 and releasing it, so another process can take it in
    // between; redis then exits at once ("Address already in use") and we try another port.
    for (let attempt = 1; ; attempt += 1) {
      const port = await findFreePort();
      try {
        return await launch(options, dir, port, ownDir);
      } catch (error) {
        const portTaken =
          error instanceof RedisStartError && /address already in use/i.test(error.outputTail);
        if (!portTaken || attempt >= START_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  options: StartRedisOptions,
  dir: string,
  port: number,
  ownDir: boolean,
): Promise<RedisInstance> {
  const binary = options.binary ?? 'redis-server';
  const args = [
    ...(options.configFile === undefined ? [] : [options.configFile]),
    '--port', String(port),
    '--bind', HOST,
    '--save', '',
    '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--dir', dir,
    ...(options.args ?? []),
  ]; // prettier-ignore
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keepTail = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);

  // `once(child, 'exit')` would reject on a spawn error, so listen by hand.
  const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawnError) {
    if ((spawnError as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RedisStartError(
        `redis-server not found (${binary}): run make setup / apt-get install redis-server`,
        '',
      );
    }
    throw new RedisStartError(`redis-server could not be started (${binary}): ${spawnError.message}`, '');
  }
  const pid = child.pid;
  if (pid === undefined) throw new RedisStartError('redis-server started without a PID', output);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    const ready = await Promise.race([ping(port), exited]);
    if (ready === 'exited') {
      throw new RedisStartError(`redis-server exited before answering PING (port ${port})`, output);
    }
    if (ready) break;
    if (Date.now() > deadline) {
      await terminate(child);
      throw new RedisStartError(`redis-server did not answer PING on port ${port} in time`, output);
    }
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS)); // poll interval, not a sync
  }

  let stopping: Promise<void> | undefined;
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid,
    stop: () => {
      stopping ??= (async () => {
        await terminate(child);
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** SIGTERM by PID and wait for the exit; SIGKILL if it has not exited after a grace period. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(child.pid as number, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
  }, STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** True when the server answers `+PONG` to an inline PING, false on refusal or anything else. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** A loopback port nothing listens on now (asked of the kernel, then released). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}
