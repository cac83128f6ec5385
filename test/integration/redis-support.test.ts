import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, RedisStartError } from '../support/redis.js';
import type { RedisInstance } from '../support/redis.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('sandbox: redis-server on loopback', () => {
  const started: RedisInstance[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((instance) => instance.stop()));
  });

  it('starts a server that answers PING, runs noeviction without persistence, and stops by PID', async () => {
    const redis = await startRedis();
    started.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(isAlive(redis.pid)).toBe(true);

    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      const dir = (await client.config('GET', 'dir')) as string[];
      expect(existsSync(dir[1] ?? '')).toBe(true);

      await redis.stop();
      expect(isAlive(redis.pid)).toBe(false);
      expect(existsSync(dir[1] ?? '')).toBe(false);
    } finally {
      client.disconnect();
    }
  });

  it('gives two servers different ports', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    started.push(a, b);
    expect(a.port).not.toBe(b.port);
    expect(a.pid).not.toBe(b.pid);
  });

  it('keeps a caller-provided dir after stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbot-redis-test-'));
    try {
      const redis = await startRedis({ dir });
      await redis.stop();
      expect(isAlive(redis.pid)).toBe(false);
      expect(existsSync(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says how to install redis-server when the binary is missing', async () => {
    const attempt = startRedis({ binary: '/nonexistent/redis-server' });
    await expect(attempt).rejects.toBeInstanceOf(RedisStartError);
    await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
  });
});
