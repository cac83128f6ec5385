// One pool of step slots for every BullMQ Worker of a process (one Worker per site queue), taken
// BEFORE a job is fetched, so a process never holds more jobs locked than it can run. BullMQ's own
// loop fetches up to `concurrency` jobs per Worker: with the whole process concurrency given to each
// site's Worker and gated afterwards, one process could hold (sites + 1) × concurrency jobs locked
// while running `concurrency`, and another process could not take them.
//
// Why this and not something simpler: a Worker's `concurrency` cannot go below 1, so shrinking it
// per site still lets a busy process hold one job per queue locked (the bound would grow with the
// sites); and a Worker serves one queue, so "one Worker pulling from every site" is not BullMQ's.
//
// The pool is FIFO across the process's Workers, so a busy site cannot starve another. A Worker waits
// for a slot holding no job (and no Redis command: the wait is between BullMQ's wake-up and its
// fetch), and gives the slot back once the job has left active: completed, failed, retried or put
// back delayed. Lock renewal and the stalled-job check run on BullMQ's own timers, not in the fetch
// loop, so a Worker waiting for a slot neither lets its running jobs' locks lapse nor stops
// recovering a dead process's jobs.
import { Worker, type Job } from 'bullmq';
import type { StepJob } from './jobs.js';

/** Jobs a process holds locked beyond those it runs: none (a slot is taken before the fetch). */
export const PREFETCH = 0;

/** A process-local counting semaphore whose waits can be given up (a Worker closing). */
export class SlotPool {
  private readonly waiting: { owner: object; settle: (granted: boolean) => void }[] = [];
  private free: number;

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Slots taken right now: jobs fetched (or being fetched) and not yet finished. */
  get taken(): number {
    return this.size - this.free;
  }

  /** A release function when a slot is free now, else undefined (and nothing is taken). */
  tryAcquire(): (() => void) | undefined {
    if (this.free === 0) return undefined;
    this.free -= 1;
    return this.releaser();
  }

  /** Resolves to a release function, or to undefined when `owner` gave up waiting (`abandon`). */
  async acquire(owner: object): Promise<(() => void) | undefined> {
    if (this.free > 0) this.free -= 1;
    else {
      const granted = await new Promise<boolean>((settle) => this.waiting.push({ owner, settle }));
      if (!granted) return undefined;
    }
    return this.releaser();
  }

  /** Ends every wait of `owner` without a slot. */
  abandon(owner: object): void {
    const mine = this.waiting.filter((waiter) => waiter.owner === owner);
    this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((waiter) => waiter.owner !== owner));
    for (const waiter of mine) waiter.settle(false);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: it is never free in between.
      if (next) next.settle(true);
      else this.free += 1;
    };
  }
}

/**
 * Tells the other processes that a queue has work this one cannot take now: BullMQ wakes one blocked
 * Worker per new job (a marker in the queue's `marker` set, popped by one BZPOPMIN), and a full
 * process that popped it would otherwise keep the job waiting for its own slot while an idle
 * process sleeps out its block timeout.
 */
export type HandOn = (queueKeys: Record<string, string>) => Promise<void>;

/**
 * A BullMQ Worker that takes a slot from the process's pool before it moves a job to active, and
 * never fetches the next job as part of finishing one (BullMQ's `fetchNext`: that would lock a job
 * without a slot). Everything else (lock renewal, stalled checks, retries, backoff) is BullMQ's own.
 *
 * Its own `concurrency` is kept at (jobs it is processing + 1). BullMQ's loop awaits one fetch after
 * another and starts the jobs fetched only once it stops fetching: with a higher concurrency, a fetch
 * waiting for a slot would stand in front of a job already fetched, which holds a slot and never
 * starts. With at most one fetch beyond the jobs in hand, a fetched job is always started first.
 * Create it with `autorun: false`, give it the pool, then `run()`.
 */
export class SlottedWorker extends Worker<StepJob, string> {
  private readonly held = new Map<string, () => void>();
  private pool: SlotPool | undefined;
  private handOn: HandOn | undefined;
  private processing = 0;

  /** Must be called before the worker runs. */
  useSlots(pool: SlotPool, handOn?: HandOn): this {
    this.pool = pool;
    this.handOn = handOn;
    this.concurrency = 1;
    return this;
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<StepJob, string>> {
    const pool = this.pool;
    if (pool === undefined) throw new Error('SlottedWorker: useSlots() before run()');
    if (this.closing) return noJob();
    let release = pool.tryAcquire();
    if (release === undefined) {
      // Full: queue up for a slot first (FIFO over the process's Workers), then hand the wake-up on.
      const waiting = pool.acquire(this);
      this.handOn?.(this.keys).catch((error: unknown) => this.emit('error', error as Error));
      release = await waiting;
    }
    // Closing (before or while this fetch waited for a slot): take nothing more.
    if (release === undefined || this.closing) {
      release?.();
      return noJob();
    }
    try {
      const job = (await super.moveToActive(token, name)) as Job<StepJob, string> | undefined;
      if (job === undefined) release();
      else this.held.set(token, release);
      return job ?? noJob();
    } catch (error) {
      release();
      throw error;
    }
  }

  override async processJob(job: Job<StepJob, string>, token: string): Promise<void> {
    this.processing += 1;
    this.concurrency = this.processing + 1;
    try {
      // Finish without fetching the next job in the same call: the next fetch takes a slot first.
      await super.processJob(job, token, () => false);
    } finally {
      this.held.get(token)?.();
      this.held.delete(token);
      this.processing -= 1;
      this.concurrency = this.processing + 1;
    }
  }

  /** Gives up any wait for a slot at once, then closes as BullMQ does (`force`: without waiting). */
  override close(force = false): Promise<void> {
    const closing = super.close(force);
    this.pool?.abandon(this);
    return closing;
  }
}

/** BullMQ's fetch answers "no job" with undefined, though its type says Job. */
function noJob(): Job<StepJob, string> {
  return undefined as unknown as Job<StepJob, string>;
}
