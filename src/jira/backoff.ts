// When and how long to wait before calling Jira again, and how many calls may be in flight.
// jira.js classifies failures (its error predicates) but leaves 429 to us: "the right response to a
// rate limit is to slow the whole client down" (node_modules/jira.js/dist/core/errors/apiError.js).
// Its own transport retry is switched off in the adapter (`retry.maxAttempts: 1`) so nothing retries twice.
import { isApiError, isNetworkError, isRateLimitError, isServerError } from 'jira.js';

export type Sleep = (ms: number) => Promise<void>;
/** A number in [0, 1), like Math.random; injected so tests can pin the jitter. */
export type Random = () => number;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface BackoffPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Upper bound of the first jittered wait; doubles with each failed attempt. */
  baseDelayMs: number;
  /** No jittered wait is longer than this. */
  maxDelayMs: number;
  /**
   * Retry-After is honoured up to this (default 60 s): a longer one (a misconfigured proxy, an hour-long
   * penalty) would stall a worker slot; past it the call waits this long and the adapter warns.
   */
  maxRetryAfterMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
};

/** One failed Jira call, as far as retrying is concerned. */
export type Failure =
  | { kind: 'rateLimited'; status: 429; retryAfterMs: number | undefined }
  | { kind: 'server'; status: number; retryAfterMs?: number }
  | { kind: 'network'; code: string | undefined; transient: boolean }
  | { kind: 'client'; status: number };

/** How one HTTP call ended, for call counting. */
export type CallOutcome = 'ok' | '429' | '5xx' | '4xx' | 'network';

/**
 * Classifies an error thrown by jira.js. Undefined for anything that is not a Jira call's failure (a
 * bug of ours, a thrown zod error): those are never retried and never counted.
 */
export function classifyFailure(error: unknown): Failure | undefined {
  // jira.js parses Retry-After (delta-seconds or HTTP date) into retryAfterMs; the raw header is not kept.
  if (isRateLimitError(error)) return { kind: 'rateLimited', status: 429, retryAfterMs: error.retryAfterMs };
  if (isServerError(error)) {
    // Our transport adds a 503's Retry-After to jira.js's ServerError (src/jira/transport.ts).
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    return typeof retryAfterMs === 'number'
      ? { kind: 'server', status: error.status, retryAfterMs }
      : { kind: 'server', status: error.status };
  }
  if (isNetworkError(error)) return { kind: 'network', code: error.code, transient: error.transient };
  if (isApiError(error)) return { kind: 'client', status: error.status };
  return undefined;
}

export function outcomeOf(failure: Failure): Exclude<CallOutcome, 'ok'> {
  switch (failure.kind) {
    case 'rateLimited':
      return '429';
    case 'server':
      return '5xx';
    case 'network':
      return 'network';
    case 'client':
      return '4xx';
  }
}

/** 429, 5xx and transient transport failures (ECONNRESET, ETIMEDOUT…) are worth another try; 4xx never. */
export function isRetryable(failure: Failure): boolean {
  if (failure.kind === 'network') return failure.transient;
  return failure.kind === 'rateLimited' || failure.kind === 'server';
}

/**
 * The wait before the next attempt, after `failedAttempts` failures (1 for the first). Retry-After wins
 * when Jira sent it (capped at `maxRetryAfterMs`); otherwise capped exponential backoff with full jitter
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). The adapter never
 * retries a call whose Retry-After exceeds the cap (see adapter.ts): the wait is never cut short.
 */
export function retryDelayMs(
  failure: Failure,
  failedAttempts: number,
  policy: BackoffPolicy,
  random: Random,
): number {
  const retryAfterMs = retryAfterOf(failure);
  if (retryAfterMs !== undefined) {
    const cap = policy.maxRetryAfterMs ?? DEFAULT_BACKOFF.maxRetryAfterMs;
    return Math.min(Math.ceil(Math.max(0, retryAfterMs)), cap);
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.floor(random() * ceiling);
}

/** Jira's Retry-After, on a 429 or a 5xx (Atlassian: a 503 with one is handled like a 429). */
export function retryAfterOf(failure: Failure): number | undefined {
  return failure.kind === 'rateLimited' || failure.kind === 'server' ? failure.retryAfterMs : undefined;
}

export interface RetryHooks {
  policy: BackoffPolicy;
  sleep: Sleep;
  random: Random;
  /** Called before each wait, for logging. */
  onRetry?: (failure: Failure, failedAttempts: number, delayMs: number) => void;
  /** Which failures to retry (default isRetryable); a write that is not idempotent narrows it. */
  retryable?: (failure: Failure) => boolean;
}

/**
 * For a write that must not land twice (a new comment): only a 429 proves Jira did nothing. After a
 * 5xx or a lost connection the write may have landed; the caller re-reads instead of repeating it.
 */
export function isSafeToRepeatUnseen(failure: Failure): boolean {
  return failure.kind === 'rateLimited';
}

/** Runs `operation` until it succeeds, fails for good, or runs out of attempts; rethrows the last error. */
export async function withBackoff<T>(operation: () => Promise<T>, hooks: RetryHooks): Promise<T> {
  for (let failedAttempts = 1; ; failedAttempts += 1) {
    try {
      return await operation();
    } catch (error) {
      const failure = classifyFailure(error);
      const retryable = hooks.retryable ?? isRetryable;
      if (!failure || !retryable(failure) || failedAttempts >= hooks.policy.maxAttempts) throw error;
      const delayMs = retryDelayMs(failure, failedAttempts, hooks.policy, hooks.random);
      hooks.onRetry?.(failure, failedAttempts, delayMs);
      await hooks.sleep(delayMs);
    }
  }
}

export interface Semaphore {
  /** Runs `task` when a slot is free; a `first` task waits ahead of every ordinary one. */
  run<T>(task: () => Promise<T>, options?: { first?: boolean }): Promise<T>;
}

/** At most `limit` tasks run at once; the rest wait in arrival order, `first` ones ahead of the others. */
export function createSemaphore(limit: number): Semaphore {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let active = 0;
  const firsts: (() => void)[] = [];
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = firsts.shift() ?? waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run<T>(task: () => Promise<T>, options: { first?: boolean } = {}): Promise<T> {
      if (active < limit) active += 1;
      // The releasing task hands its slot straight to the next waiter, so `active` stays the same.
      else await new Promise<void>((resolve) => (options.first ? firsts : waiting).push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
