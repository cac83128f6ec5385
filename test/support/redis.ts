// Tests start their own redis-server through the same helper the demo uses.
export { startRedis, RedisStartError } from '../../src/sandbox/redis.js';
export type { RedisInstance, StartRedisOptions } from '../../src/sandbox/redis.js';
