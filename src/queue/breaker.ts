// The failure-rate breaker's memory, shared by every worker: per site and step, the outcomes of the
// latest runs (a Redis list, newest first, trimmed to the window) and the breakers open now (one
// hash, field `site/step`). Recording an outcome and tripping is one Lua script, so two workers that
// fail at once trip it once. This is work-in-flight state like the queue: a Redis loss forgets it,
// and a forgotten breaker is closed (docs/reliability.md says what that means).
import type { RedisClient } from './connection.js';
import { z } from 'zod';
import type { OpenBreaker, OpenBreakers } from '../planner/index.js';

// KEYS: the runs list, the open hash. ARGV: outcome (1 failed, 0 ok), ticket, window, failures, field, now.
const RECORD = `
redis.call('LPUSH', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
if redis.call('HEXISTS', KEYS[2], ARGV[5]) == 1 then return false end
local runs = redis.call('LRANGE', KEYS[1], 0, -1)
local failed = {}
for i = #runs, 1, -1 do
  if string.sub(runs[i], 1, 1) == '1' then table.insert(failed, string.sub(runs[i], 3)) end
end
if #failed < tonumber(ARGV[4]) then return false end
local info = cjson.encode({failures = #failed, window = #runs, since = ARGV[6], tickets = failed})
redis.call('HSET', KEYS[2], ARGV[5], info)
return info
`;

const OpenBreakerSchema = z.object({
  failures: z.number(),
  window: z.number(),
  since: z.string(),
  tickets: z.array(z.string()).or(z.object({}).transform(() => [])),
});

export interface BreakerRun {
  site: string;
  step: string;
  ticket: string;
  failed: boolean;
  /** The step's limits at its site (breakerLimits); the run is not recorded when its breaker is off. */
  limits: { failures: number; window: number };
  now: Date;
}

export class BreakerStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  get openKey(): string {
    return `${this.prefix}:breaker:open`;
  }

  private runsKey(field: string): string {
    return `${this.prefix}:breaker:runs:${field}`;
  }

  /** Records one run's outcome; answers the breaker when this run opened it. */
  async record(run: BreakerRun): Promise<OpenBreaker | undefined> {
    const field = `${run.site}/${run.step}`;
    const opened = (await this.redis.eval(
      RECORD,
      2,
      this.runsKey(field),
      this.openKey,
      run.failed ? '1' : '0',
      run.ticket,
      String(run.limits.window),
      String(run.limits.failures),
      field,
      run.now.toISOString(),
    )) as string | null;
    return opened === null ? undefined : parseOpen(opened);
  }

  /** Every breaker open now, by `site/step`. */
  async open(): Promise<OpenBreakers> {
    const fields = await this.redis.hgetall(this.openKey);
    const open: Record<string, OpenBreaker> = {};
    for (const [field, value] of Object.entries(fields)) {
      const parsed = parseOpen(value);
      if (parsed) open[field] = parsed;
    }
    return open;
  }

  /** Closes a breaker and forgets its runs (a fresh window); answers whether it was open. */
  async reset(site: string, step: string): Promise<boolean> {
    const field = `${site}/${step}`;
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(this.openKey, field)
      .del(this.runsKey(field))
      .exec()) as [[Error | null, number], [Error | null, number]];
    return removed === 1;
  }
}

function parseOpen(value: string): OpenBreaker | undefined {
  try {
    const parsed = OpenBreakerSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
