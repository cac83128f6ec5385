// Did Redis lose work in flight? BullMQ's job ids keep one copy of a job only while Redis keeps its
// keys: after a FLUSHALL, or a restart without persistence, the poller re-derives every job from
// Jira while the workers still hold the old copies, so a step can have a twin. The epoch is a
// random id kept in Redis and made again when it is missing; a worker notes it before it reads a
// ticket and compares after it marks the step running. A changed epoch, an epoch made moments ago,
// or a Redis that does not answer all mean "a twin may exist", and the worker settles its claim in
// Jira before it runs anything (see claimStep in service/act.ts).
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connection.js';

/** What a worker saw before reading a ticket. */
export interface EpochMark {
  /** Undefined when Redis did not answer. */
  id: string | undefined;
  /** The epoch began within the young window: jobs re-derived after a loss are about. */
  young: boolean;
}

// KEYS: epoch, young marker. ARGV: a fresh id, the young window in ms.
const READ = `
local id = redis.call('GET', KEYS[1])
if not id then
  id = ARGV[1]
  redis.call('SET', KEYS[1], id)
  redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[2]))
end
return {id, redis.call('EXISTS', KEYS[2])}
`;

export interface RedisEpochOptions {
  /** Key prefix, e.g. the queue prefix: keys are `<prefix>:epoch` and `<prefix>:epoch:young`. */
  prefix: string;
  /** How long after its birth an epoch counts as young; at least the claim's settle time. */
  youngMs: number;
  /** How long to wait for Redis before taking its silence as a loss. Default 2 s. */
  timeoutMs?: number;
}

export class RedisEpoch {
  private readonly keys: [string, string];
  private readonly timeoutMs: number;
  /** Whole milliseconds, at least 1: `SET … PX` refuses anything else, after the epoch is set. */
  private readonly youngMs: number;

  constructor(
    private readonly redis: RedisClient,
    options: RedisEpochOptions,
  ) {
    this.keys = [`${options.prefix}:epoch`, `${options.prefix}:epoch:young`];
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.youngMs = Math.max(1, Math.ceil(options.youngMs));
  }

  async read(): Promise<EpochMark> {
    try {
      const [id, young] = (await this.withTimeout(
        this.redis.eval(READ, 2, ...this.keys, randomUUID(), String(this.youngMs)),
      )) as [string, number];
      return { id, young: young === 1 };
    } catch {
      return { id: undefined, young: true };
    }
  }

  /** True when a twin of a job read under `mark` may exist: Redis lost its keys, or cannot tell. */
  async mayHaveLostWork(mark: EpochMark): Promise<boolean> {
    if (mark.young || mark.id === undefined) return true;
    const now = await this.read();
    return now.id !== mark.id;
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis did not answer')), this.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
