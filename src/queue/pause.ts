// The global pause: while it is on, workers start nothing new (running steps finish) and every job
// waits in the queue, so nothing is lost. Two switches: RUNBOT_PAUSE in the environment (a restart),
// or the Redis key `<prefix>:pause` (at run time, for every worker at once; its value is the reason).
import type { Logger } from '../logger.js';
import type { RedisClient } from './connection.js';

export class PauseSwitch {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly pausedByEnvironment = false,
  ) {}

  get key(): string {
    return `${this.prefix}:pause`;
  }

  /** Why work is paused, or undefined when it is not. */
  async reason(): Promise<string | undefined> {
    if (this.pausedByEnvironment) return 'RUNBOT_PAUSE is set';
    const value = await this.redis.get(this.key);
    return value === null ? undefined : `${this.key} is set: ${value || 'no reason given'}`;
  }

  /**
   * `reason()` as a worker asks it before each job, with one line at info when this process first
   * sees the pause, sees its reason change, or sees it lifted: the reason `runbot pause` was given
   * shows in the workers' logs without a line per deferred job.
   */
  watched(logger: Logger): () => Promise<string | undefined> {
    let seen: string | undefined;
    return async () => {
      const reason = await this.reason();
      if (reason !== seen) {
        if (reason === undefined) logger.info({ was: seen }, 'pause lifted: workers start steps again');
        else logger.info({ reason }, 'paused: workers start no new step; every job waits in its queue');
        seen = reason;
      }
      return reason;
    };
  }

  async pause(reason: string): Promise<void> {
    await this.redis.set(this.key, reason);
  }

  async resume(): Promise<void> {
    await this.redis.del(this.key);
  }
}
