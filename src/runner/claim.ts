// The claim: who runs a step when Redis may have lost work in flight. BullMQ's job ids keep one copy
// of a job only while Redis keeps its keys: after a FLUSHALL, or a restart without persistence, the
// poller re-derives every job from Jira while the workers still hold the old copies, so a step can
// have a twin. The whole protocol is here: the Redis epoch a worker notes before it reads a ticket
// (a random id kept in Redis and made again when it is missing), the running mark it writes before
// a step runs (planner/bookkeeping.ts), the settling of that mark in Jira when the epoch says a twin
// may exist, and the same settling before an Action Required comment is posted (instruction
// de-duplication). docs/architecture.md and docs/reliability.md give the argument.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JiraPort } from '../jira/port.js';
import type { Logger } from '../logger.js';
import { bookkeeping, type StepVisit, type TicketComment } from '../planner/index.js';
import type { RedisClient, StepJob } from '../queue/index.js';
import { deferred, done, type Outcome } from './outcome.js';

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

/** The client with READ defined on it (ioredis defineCommand: EVALSHA, and EVAL once on NOSCRIPT). */
type EpochClient = RedisClient & {
  runbotEpochRead(epochKey: string, youngKey: string, id: string, youngMs: string): Promise<[string, number]>;
};

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
    // Sent by its SHA on every read; the script's text only when Redis does not know it (a restart).
    redis.defineCommand('runbotEpochRead', { numberOfKeys: 2, lua: READ });
  }

  async read(): Promise<EpochMark> {
    try {
      const client = this.redis as EpochClient;
      const [id, young] = await this.withTimeout(
        client.runbotEpochRead(...this.keys, randomUUID(), String(this.youngMs)),
      );
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

/** How this worker claims: the epoch to watch and Fischer's bound. Without it, the queue's job ids
 * alone keep a step from running twice. */
export interface ClaimSettings {
  epoch: RedisEpoch;
  settleMs: number;
}

/** The claim settings of a worker process: `RUNBOT_CLAIM_SETTLE` seconds, keys under `prefix`. */
export function claimSettings(redis: RedisClient, prefix: string, settleSeconds: number): ClaimSettings {
  const settleMs = settleSeconds * 1000;
  // An epoch counts as young for twice the settle time: long enough for any claim read before the
  // loss to have landed or to have given up.
  return { epoch: new RedisEpoch(redis, { prefix, youngMs: 2 * settleMs }), settleMs };
}

export interface ClaimCheck {
  /** When the worker asked Redis for the epoch, before it read the ticket (performance.now()): a
   * twin that started before a loss writes its mark within settleMs of this, or stands down. */
  epochNotedAt: number;
  /** Asked once the running mark is written: may another worker hold a copy of this job? */
  mayHaveTwin: () => Promise<boolean>;
  /** Fischer's bound: a mark must land within this long of `epochNotedAt`, and each claimant waits
   * this long before it reads the mark back. */
  settleMs: number;
}

/** Only steps and instructions are claimed; checks and transitions are safe to repeat. */
const CLAIMED_KINDS = new Set<StepJob['kind']>(['runStep', 'postInstructions']);

/**
 * The first thing a job does, before anything can stall: which Redis it came from. Undefined when
 * the job needs no claim (its kind, or a worker without claims).
 */
export async function noteEpoch(
  job: StepJob,
  settings: ClaimSettings | undefined,
): Promise<ClaimCheck | undefined> {
  if (!settings || !CLAIMED_KINDS.has(job.kind)) return undefined;
  const epochNotedAt = performance.now();
  const mark = await settings.epoch.read();
  return {
    epochNotedAt,
    settleMs: settings.settleMs,
    mayHaveTwin: () => settings.epoch.mayHaveLostWork(mark),
  };
}

export type Claimed = 'ours' | 'duplicate' | 'contested';

/**
 * What a step job that did not win its claim comes to. A first run's job completes (`duplicate`,
 * `contested`): once the mark lapses, the poller plans the resume under its own id. A resume's job
 * goes back to its queue instead: completed, it would keep the visit's one resume id for as long as
 * the queue keeps a finished job; back, it finds the mark and waits for it to lapse (holds.ts).
 */
export function stoodDown(claimed: Exclude<Claimed, 'ours'>, resumed: boolean): Outcome {
  return resumed
    ? deferred(`claim ${claimed}: the resume waits for the running mark to lapse`)
    : done(claimed);
}

interface ClaimParty {
  jira: JiraPort;
  now: () => Date;
  logger: Logger;
}

/**
 * Writes the step's running mark before anything runs, and settles it when the job may have a twin.
 */
export async function claimStep(
  ctx: ClaimParty,
  visit: StepVisit,
  step: string,
  claim: ClaimCheck | undefined,
): Promise<Claimed> {
  const mark = await markRunning(ctx, visit, step);
  if (!claim || !(await claim.mayHaveTwin())) return 'ours';
  return settleClaim(ctx, visit, mark, claim);
}

/**
 * Before an Action Required comment is posted: when a twin may be about to post the same
 * instructions, settle which one posts, then read the comments again. Returns the comments to look
 * for an earlier post in, or why this worker stands down.
 */
export async function claimInstructions(
  ctx: ClaimParty,
  visit: StepVisit,
  step: string,
  claim: ClaimCheck | undefined,
  seen: TicketComment[],
): Promise<{ claimed: 'ours'; seen: TicketComment[] } | { claimed: Exclude<Claimed, 'ours'> }> {
  if (!claim || !(await claim.mayHaveTwin())) return { claimed: 'ours', seen };
  const settled = await settleClaim(ctx, visit, await markRunning(ctx, visit, step), claim);
  if (settled !== 'ours') return { claimed: settled };
  const fresh = await ctx.jira.getTicket(visit.key, { inputFields: {} });
  return { claimed: 'ours', seen: fresh?.comments ?? seen };
}

async function markRunning(ctx: ClaimParty, visit: StepVisit, step: string) {
  const token = randomUUID();
  await ctx.jira.setBookkeeping(visit.key, bookkeeping.running(visit, step, ctx.now(), token));
  return { token, markedAt: performance.now() };
}

/**
 * Jira has no compare-and-set, so twins are told apart the way Fischer's mutual exclusion settles a
 * shared variable: every claimant writes its mark within `settleMs` of noting the epoch (before it
 * read the ticket and saw no mark), waits `settleMs`, and reads the mark back; only the claimant
 * whose token is still there goes on. One slower than the bound cannot prove it is alone and stops:
 * its mark stays, so a step is treated as interrupted (never run twice on a guess).
 */
async function settleClaim(
  ctx: ClaimParty,
  visit: StepVisit,
  mark: { token: string; markedAt: number },
  claim: ClaimCheck,
): Promise<Claimed> {
  ctx.logger.info(
    { settleMs: claim.settleMs },
    'redis may have lost work in flight: settling the claim in Jira',
  );
  await sleep(claim.settleMs);
  const running = (await ctx.jira.getBookkeeping(visit.key))?.running;
  if (running?.claim !== mark.token) {
    ctx.logger.info({ claimedBy: running?.claim }, 'another worker claimed this step: not run');
    return 'duplicate';
  }
  const elapsedMs = mark.markedAt - claim.epochNotedAt;
  if (elapsedMs > claim.settleMs) {
    ctx.logger.warn(
      { elapsedMs, settleMs: claim.settleMs },
      'claim took longer than its bound, so another worker may run this step: not run here',
    );
    return 'contested';
  }
  return 'ours';
}
