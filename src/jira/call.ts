// The one wrapper every Jira call goes through: it caps concurrency, honours the rate-limit gate,
// retries 429/5xx/transient network failures with backoff, counts calls by endpoint and outcome, and
// turns what is left into a JiraRequestError a person can act on.
import type { Logger } from '../logger.js';
import type { JiraCredentials } from './auth.js';
import type { BackoffPolicy, CallOutcome, Failure, Random, Sleep } from './backoff.js';
import {
  classifyFailure,
  createSemaphore,
  isRetryable,
  isSafeToRepeatUnseen,
  outcomeOf,
  retryAfterOf,
  withBackoff,
} from './backoff.js';
import { JiraRequestError, toRequestError } from './errors.js';
import { RateLimitHeld, type GateCall, type RateGate } from './rate-limit.js';
import { responseNotes, type ResponseNotes } from './transport.js';

export interface CallCount {
  /** Method and the spec's path template, e.g. `GET /rest/api/3/search/jql`. */
  endpoint: string;
  outcome: CallOutcome;
  count: number;
}

/** How a call may be repeated: `idempotent` ones after any retryable failure, others only when
 * the request surely never landed; `once` not at all (a 429 is thrown, the caller's retry decides). */
export interface CallMode {
  idempotent: boolean;
  once?: boolean;
  /** Waits for a place among the calls in flight ahead of the others: the search pages. One page
   * tells the poller about 100 tickets, and behind a batch's worker calls a poll cycle took 10 s. */
  first?: boolean;
}

export type Call = <T>(
  endpoint: string,
  issueKey: string | undefined,
  send: () => Promise<T>,
  mode?: CallMode,
) => Promise<T>;

export interface Caller {
  call: Call;
  /** Calls made so far, by endpoint and outcome. */
  calls(): CallCount[];
}

export function createCaller(settings: {
  logger: Logger;
  credentials: JiraCredentials;
  policy: Required<BackoffPolicy>;
  sleep: Sleep;
  random: Random;
  gate: RateGate;
  concurrency: number;
}): Caller {
  const { logger, credentials, policy, sleep, random, gate } = settings;
  const semaphore = createSemaphore(settings.concurrency);
  const counts = new Map<string, CallCount>();

  function count(endpoint: string, outcome: CallOutcome): void {
    const id = `${endpoint} ${outcome}`;
    const entry = counts.get(id) ?? { endpoint, outcome, count: 0 };
    entry.count += 1;
    counts.set(id, entry);
  }

  async function call<T>(
    endpoint: string,
    issueKey: string | undefined,
    send: () => Promise<T>,
    mode: CallMode = { idempotent: true },
  ): Promise<T> {
    let attempts = 0;
    const gateCall: GateCall = { endpoint, issueKey, write: !endpoint.startsWith('GET ') };
    // The end of the hold this call's own 429 set: its retry waited that out already.
    let waitedUntil: number | undefined;
    const attempt = async () => {
      // Held calls wait outside the semaphore: a slot goes to a call that may run now.
      await gate.pass(gateCall, waitedUntil);
      return semaphore.run(async () => {
        attempts += 1;
        const notes: ResponseNotes = {};
        try {
          const result = await responseNotes.run(notes, send);
          count(endpoint, 'ok');
          return result;
        } catch (error) {
          const failure = classifyFailure(error);
          if (failure) count(endpoint, outcomeOf(failure));
          throw error;
        } finally {
          const wasPacing = gate.pacing(endpoint);
          const held = gate.observe(gateCall, notes.signal);
          if (held) waitedUntil = held.until;
          // Info when something changes (a hold, pacing begins); while pacing goes on, debug.
          const news =
            held !== undefined ||
            notes.signal?.reason !== undefined ||
            (notes.signal?.nearLimit && !wasPacing);
          if (notes.signal && (news || notes.signal.nearLimit))
            logger[news ? 'info' : 'debug'](
              { endpoint, ticket: issueKey, ...notes.signal, holds: held?.key },
              'jira rate-limit headers',
            );
        }
      }, mode);
    };
    const onRetry = (failure: Failure, failedAttempts: number, delayMs: number) => {
      logger.warn(
        { endpoint, ticket: issueKey, ...failureFields(failure), attempt: failedAttempts, delayMs },
        'jira call failed, retrying',
      );
    };
    const base = mode.once ? () => false : mode.idempotent ? isRetryable : isSafeToRepeatUnseen;
    // Never before Retry-After: a wait longer than the cap is not cut short, the call fails instead
    // and the gate keeps every caller off that endpoint until then.
    const retryable = (failure: Failure) => {
      const retryAfterMs = retryAfterOf(failure) ?? 0;
      if (retryAfterMs <= policy.maxRetryAfterMs) return base(failure);
      logger.warn(
        { endpoint, ticket: issueKey, retryAfterMs, capMs: policy.maxRetryAfterMs },
        'jira Retry-After longer than the cap, not retrying before it',
      );
      return false;
    };
    try {
      return await withBackoff(attempt, { policy, sleep, random, onRetry, retryable });
    } catch (error) {
      if (error instanceof RateLimitHeld) {
        throw new JiraRequestError({
          endpoint,
          status: 429,
          messages: [error.message],
          issueKey,
          attempts,
          cause: error,
        });
      }
      throw toRequestError(error, endpoint, issueKey, attempts, credentials.hint);
    }
  }

  return {
    call,
    calls: () => [...counts.values()].map((entry) => ({ ...entry })),
  };
}

function failureFields(failure: Failure): Record<string, unknown> {
  return failure.kind === 'network' ? { code: failure.code } : { status: failure.status };
}
