// The global pause as a worker sees it (real redis-server): `runbot pause REASON` shows in the
// workers' logs once, at info, when a worker first sees it, and again when it is lifted; the jobs
// deferred in between write no line of their own at info.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { PauseSwitch } from '../../src/queue/index.js';
import { startRedis, type RedisInstance } from '../support/redis.js';

describe('the global pause in the workers’ logs', () => {
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

  it('logs the reason once when the pause is seen, once when it is lifted', async () => {
    const lines: { msg: string; reason?: string; was?: string }[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
          done();
        },
      }),
    });
    const pause = new PauseSwitch(redis, 'pause-test');
    const paused = pause.watched(logger);

    expect(await paused()).toBeUndefined();
    expect(lines).toEqual([]);

    await pause.pause('storage firmware rollout');
    // Several workers' jobs asking at once, then again: one line.
    const reasons = await Promise.all([paused(), paused(), paused()]);
    expect(await paused()).toBe('pause-test:pause is set: storage firmware rollout');
    expect(new Set(reasons)).toEqual(new Set(['pause-test:pause is set: storage firmware rollout']));
    expect(lines.map((line) => [line.msg, line.reason])).toEqual([
      [
        'paused: workers start no new step; every job waits in its queue',
        'pause-test:pause is set: storage firmware rollout',
      ],
    ]);

    await pause.resume();
    expect(await paused()).toBeUndefined();
    expect(await paused()).toBeUndefined();
    expect(lines.map((line) => line.msg)).toEqual([
      'paused: workers start no new step; every job waits in its queue',
      'pause lifted: workers start steps again',
    ]);
    expect(lines[1]?.was).toBe('pause-test:pause is set: storage firmware rollout');
  });
});
