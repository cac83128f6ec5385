import { ApiError, NetworkError, NotFoundError, RateLimitError, ServerError } from 'jira.js';
import { describe, expect, it } from 'vitest';
import type { BackoffPolicy, Failure } from '../../src/jira/backoff.js';
import {
  DEFAULT_BACKOFF,
  classifyFailure,
  createSemaphore,
  isRetryable,
  outcomeOf,
  retryDelayMs,
  withBackoff,
} from '../../src/jira/backoff.js';

const policy: BackoffPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 4_000 };
const rateLimited = (retryAfterMs?: number) =>
  new RateLimitError('Request failed: 429', 'Too Many Requests', {}, { retryAfterMs });
const serverError = (status: number) => new ServerError(`Request failed: ${status}`, status, 'Error', 'oops');
const networkError = (code: string | undefined, transient: boolean) =>
  new NetworkError('Request to https://x failed: fetch failed', { cause: undefined, code, transient });
const badRequest = () => new ApiError('Request failed: 400', 400, 'Bad Request', { errorMessages: ['no'] });

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => (waits.push(ms), Promise.resolve()) };
}

/** An operation that throws the given errors in turn, then answers 'done'. */
function failingThen(...errors: Error[]) {
  let calls = 0;
  const operation = () => {
    const error = errors[calls];
    calls += 1;
    return error === undefined ? Promise.resolve('done') : Promise.reject(error);
  };
  return { operation, calls: () => calls };
}

describe('backoff: classifying jira.js errors', () => {
  it('reads 429 with its Retry-After, 5xx, network and other 4xx apart', () => {
    expect(classifyFailure(rateLimited(7000))).toEqual({
      kind: 'rateLimited',
      status: 429,
      retryAfterMs: 7000,
    });
    expect(classifyFailure(serverError(503))).toEqual({ kind: 'server', status: 503 });
    expect(classifyFailure(networkError('ECONNRESET', true))).toEqual({
      kind: 'network',
      code: 'ECONNRESET',
      transient: true,
    });
    expect(classifyFailure(new NotFoundError('nope', 'Not Found', {}))).toEqual({
      kind: 'client',
      status: 404,
    });
    expect(classifyFailure(new TypeError('a bug of ours'))).toBeUndefined();
  });

  it('retries 429, 5xx and transient network failures, never other 4xx', () => {
    const retryable = (error: unknown) => isRetryable(classifyFailure(error) as Failure);
    expect(retryable(rateLimited())).toBe(true);
    expect(retryable(serverError(500))).toBe(true);
    expect(retryable(networkError('ECONNRESET', true))).toBe(true);
    expect(retryable(networkError('CERT_HAS_EXPIRED', false))).toBe(false);
    expect(retryable(badRequest())).toBe(false);
  });

  it('names each outcome the way call counts report it', () => {
    const outcomes = [rateLimited(), serverError(502), networkError('ETIMEDOUT', true), badRequest()].map(
      (e) => outcomeOf(classifyFailure(e) as Failure),
    );
    expect(outcomes).toEqual(['429', '5xx', 'network', '4xx']);
  });
});

describe('backoff: how long to wait', () => {
  it('honours Retry-After exactly, whatever the attempt', () => {
    expect(retryDelayMs({ kind: 'rateLimited', status: 429, retryAfterMs: 7000 }, 3, policy, () => 0.5)).toBe(
      7000,
    );
  });

  it('doubles the jitter ceiling per failure and caps it', () => {
    const failure: Failure = { kind: 'server', status: 503 };
    const ceilings = [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(failure, n, policy, () => 0.999999));
    expect(ceilings).toEqual([499, 999, 1999, 3999, 3999, 3999]);
  });

  it('applies full jitter: the wait is random × ceiling', () => {
    const failure: Failure = { kind: 'rateLimited', status: 429, retryAfterMs: undefined };
    expect(retryDelayMs(failure, 3, policy, () => 0)).toBe(0);
    expect(retryDelayMs(failure, 3, policy, () => 0.25)).toBe(500);
  });

  it('defaults to five attempts', () => {
    expect(DEFAULT_BACKOFF.maxAttempts).toBe(5);
  });

  it('honours Retry-After up to the cap (60 s unless the policy says otherwise)', () => {
    const hour: Failure = { kind: 'rateLimited', status: 429, retryAfterMs: 3_600_000 };
    expect(retryDelayMs(hour, 1, policy, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(hour, 1, { ...policy, maxRetryAfterMs: 10_000 }, () => 0.5)).toBe(10_000);
    const past: Failure = { kind: 'rateLimited', status: 429, retryAfterMs: -2_000 };
    expect(retryDelayMs(past, 1, policy, () => 0.5)).toBe(0);
  });
});

describe('backoff: the retry loop', () => {
  it('retries a 503 and succeeds, waiting the jittered delays', async () => {
    const { waits, sleep } = recordingSleep();
    const { operation, calls } = failingThen(serverError(503), serverError(503));
    await expect(withBackoff(operation, { policy, sleep, random: () => 0.5 })).resolves.toBe('done');
    expect(calls()).toBe(3);
    expect(waits).toEqual([250, 500]);
  });

  it('gives up after maxAttempts and rethrows the last error', async () => {
    const { waits, sleep } = recordingSleep();
    const last = serverError(502);
    const { operation, calls } = failingThen(serverError(500), serverError(503), last, serverError(500));
    const tight = { ...policy, maxAttempts: 3 };
    await expect(withBackoff(operation, { policy: tight, sleep, random: () => 0 })).rejects.toBe(last);
    expect(calls()).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('does not retry a 400', async () => {
    const { waits, sleep } = recordingSleep();
    const { operation, calls } = failingThen(badRequest());
    await expect(withBackoff(operation, { policy, sleep, random: () => 0 })).rejects.toThrow('400');
    expect(calls()).toBe(1);
    expect(waits).toEqual([]);
  });

  it('reports each retry before waiting', async () => {
    const seen: [string, number, number][] = [];
    const { operation } = failingThen(rateLimited(2000));
    await withBackoff(operation, {
      policy,
      sleep: () => Promise.resolve(),
      random: () => 0,
      onRetry: (failure, attempt, delayMs) => seen.push([failure.kind, attempt, delayMs]),
    });
    expect(seen).toEqual([['rateLimited', 1, 2000]]);
  });
});

describe('backoff: concurrency cap', () => {
  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  it('runs at most `limit` tasks at once and starts waiters in order', async () => {
    const semaphore = createSemaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const results = gates.map((gate, index) =>
      semaphore.run(async () => {
        started.push(index);
        running += 1;
        peak = Math.max(peak, running);
        await gate.promise;
        running -= 1;
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    await results[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((gate) => gate.resolve());
    await expect(Promise.all(results)).resolves.toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });

  it('starts a `first` waiter ahead of the ordinary ones, each kind in arrival order', async () => {
    const semaphore = createSemaphore(1);
    const running = deferred();
    const started: string[] = [];
    const task = (name: string) => async () => {
      started.push(name);
      if (name === 'running') await running.promise;
    };
    const all = [
      semaphore.run(task('running')),
      semaphore.run(task('worker 1')),
      semaphore.run(task('worker 2')),
      semaphore.run(task('search 1'), { first: true }),
      semaphore.run(task('search 2'), { first: true }),
    ];
    await Promise.resolve();
    expect(started).toEqual(['running']);
    running.resolve();
    await Promise.all(all);
    expect(started).toEqual(['running', 'search 1', 'search 2', 'worker 1', 'worker 2']);
  });

  it('frees the slot when a task throws', async () => {
    const semaphore = createSemaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('rejects a limit below one', () => {
    expect(() => createSemaphore(0)).toThrow(RangeError);
  });
});
