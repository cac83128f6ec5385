// Jira Cloud's rate-limit headers, and the process-wide gate that acts on them
// (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/,
// https://developer.atlassian.com/cloud/jira/platform/build-an-app-that-respects-rate-limits/):
//  - `Retry-After` (seconds or an HTTP date) on a 429, and on some 503s: no call before it has passed;
//  - `X-RateLimit-Reset` (ISO 8601) when the limit resets; `X-RateLimit-Remaining`/`-Limit`;
//  - `X-RateLimit-NearLimit: true` when less than a fifth of the budget is left: pace before the 429;
//  - `RateLimit-Reason`: which limit it was, hence what to slow down. `jira-burst-based` is per
//    endpoint and method, `jira-per-issue-on-write` per issue, the quota limits (`jira-quota-*`) the
//    whole tenant or app.
// After a 429 every caller in the process waits, not only the one that was refused: a retry before
// `Retry-After` "will fail and return the same or longer Retry-After period".
import type { Sleep } from './backoff.js';

export interface RateLimitSignal {
  status: number;
  /** From `Retry-After`, or for a 429 without it from `X-RateLimit-Reset`. */
  retryAfterMs?: number;
  reason?: string;
  remaining?: number;
  limit?: number;
  /** Epoch ms, from `X-RateLimit-Reset`. */
  resetAt?: number;
  nearLimit: boolean;
}

/** The rate-limit headers of one answer; undefined when it carries none. */
export function readRateLimitHeaders(
  status: number,
  headers: Pick<Headers, 'get'>,
  now: number,
): RateLimitSignal | undefined {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  const reason = headers.get('ratelimit-reason') ?? undefined;
  const remaining = numberOf(headers.get('x-ratelimit-remaining'));
  const limit = numberOf(headers.get('x-ratelimit-limit'));
  const resetHeader = headers.get('x-ratelimit-reset');
  const resetAt = resetHeader ? Date.parse(resetHeader) : Number.NaN;
  const nearLimit = headers.get('x-ratelimit-nearlimit')?.trim().toLowerCase() === 'true';
  if (
    retryAfter === undefined &&
    reason === undefined &&
    remaining === undefined &&
    Number.isNaN(resetAt) &&
    !nearLimit
  )
    return undefined;
  const fromReset = status === 429 && !Number.isNaN(resetAt) ? Math.max(0, resetAt - now) : undefined;
  const retryAfterMs = retryAfter ?? fromReset;
  return {
    status,
    nearLimit,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(remaining !== undefined ? { remaining } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(!Number.isNaN(resetAt) ? { resetAt } : {}),
  };
}

/** Delta-seconds or an HTTP date; anything else is ignored rather than guessed at. */
function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (header.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function numberOf(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = Number(header);
  return Number.isFinite(value) ? value : undefined;
}

/** What a call is, for the gate: which holds and which pacing apply to it. */
export interface GateCall {
  /** Method and path template, e.g. `GET /rest/api/3/search/jql`. */
  endpoint: string;
  issueKey?: string | undefined;
  write: boolean;
}

const EVERYTHING = '*';

/** The gate key a limit applies to, by Atlassian's `RateLimit-Reason`. */
export function holdKeyOf(reason: string | undefined, call: GateCall): string {
  if (reason === 'jira-per-issue-on-write' && call.issueKey) return `issue ${call.issueKey}`;
  if (reason?.startsWith('jira-quota')) return EVERYTHING;
  return call.endpoint; // burst-based, or no reason given: that endpoint and method
}

function keysOf(call: GateCall): string[] {
  return [EVERYTHING, call.endpoint, ...(call.write && call.issueKey ? [`issue ${call.issueKey}`] : [])];
}

/** A call held by the gate for longer than the adapter waits: fails at once, Jira is not called. */
export class RateLimitHeld extends Error {
  constructor(
    readonly key: string,
    readonly untilMs: number,
    readonly reason: string | undefined,
  ) {
    super(
      `held until ${new Date(untilMs).toISOString()} by Jira's Retry-After${reason ? ` (${reason})` : ''}; not called`,
    );
    this.name = 'RateLimitHeld';
  }
}

export interface RateGateOptions {
  now: () => number;
  sleep: Sleep;
  /** A hold longer than this fails the call at once instead of waiting (default 60 s). */
  maxWaitMs?: number;
  /** Spacing of calls to an endpoint near its limit when Jira gives no budget to spread (default 1 s). */
  nearLimitSpacingMs?: number;
}

export type RateGate = ReturnType<typeof createRateGate>;

/**
 * Holds (no call until a time) and pacing (calls spaced while near a limit), keyed by endpoint,
 * issue or everything. One per adapter, hence one per process.
 */
export function createRateGate(options: RateGateOptions) {
  const holds = new Map<string, { until: number; reason: string | undefined }>();
  const pacing = new Map<string, { spacingMs: number; until: number; nextSlot: number }>();
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const defaultSpacing = options.nearLimitSpacingMs ?? 1_000;

  function latestHold(keys: string[]) {
    let latest: { key: string; until: number; reason: string | undefined } | undefined;
    for (const key of keys) {
      const hold = holds.get(key);
      if (hold && (!latest || hold.until > latest.until)) latest = { key, ...hold };
    }
    return latest;
  }

  return {
    /**
     * Waits until no hold applies to the call, then takes its pacing slot. `waitedUntil`: the caller
     * already waited until then (its own Retry-After), so a hold ending by then does not hold it again.
     * Throws RateLimitHeld when a hold lasts longer than `maxWaitMs`.
     */
    async pass(call: GateCall, waitedUntil = Number.NEGATIVE_INFINITY): Promise<void> {
      const keys = keysOf(call);
      let waited = waitedUntil;
      for (;;) {
        const hold = latestHold(keys);
        const now = options.now();
        if (!hold || hold.until <= now || hold.until <= waited) break;
        if (hold.until - now > maxWaitMs) throw new RateLimitHeld(hold.key, hold.until, hold.reason);
        await options.sleep(hold.until - now);
        waited = hold.until;
      }
      const pace = pacing.get(call.endpoint);
      const now = options.now();
      if (!pace || pace.until <= now) return;
      const slot = Math.max(now, pace.nextSlot);
      pace.nextSlot = slot + pace.spacingMs;
      if (slot > now) await options.sleep(slot - now);
    },

    /**
     * Acts on what an answer said. Returns the hold it set (its end), so the caller that got the 429
     * does not wait twice.
     */
    observe(call: GateCall, signal: RateLimitSignal | undefined): { key: string; until: number } | undefined {
      if (!signal) return undefined;
      const now = options.now();
      if (signal.nearLimit) {
        const until = signal.resetAt !== undefined && signal.resetAt > now ? signal.resetAt : now + 60_000;
        // Spread what is left of the budget over the time to the reset, at least the default spacing.
        const spread =
          signal.remaining !== undefined && signal.resetAt !== undefined && signal.remaining > 0
            ? (signal.resetAt - now) / signal.remaining
            : 0;
        const spacingMs = Math.min(Math.max(defaultSpacing, spread), maxWaitMs);
        const previous = pacing.get(call.endpoint);
        // The call just answered took the current slot: the next one waits a spacing from now.
        pacing.set(call.endpoint, {
          spacingMs,
          until,
          nextSlot: Math.max(previous?.nextSlot ?? 0, now + spacingMs),
        });
      }
      const limited = signal.status === 429 || signal.status === 503;
      if (!limited || signal.retryAfterMs === undefined) return undefined;
      const key = holdKeyOf(signal.reason, call);
      const until = now + signal.retryAfterMs;
      const existing = holds.get(key);
      if (!existing || existing.until < until) holds.set(key, { until, reason: signal.reason });
      return { key, until };
    },

    /** Whether calls to this endpoint are being spaced now. */
    pacing(endpoint: string): boolean {
      const pace = pacing.get(endpoint);
      return pace !== undefined && pace.until > options.now();
    },

    /** The holds still in force (for logs and tests). */
    holds(): { key: string; until: number; reason: string | undefined }[] {
      const now = options.now();
      return [...holds.entries()]
        .filter(([, hold]) => hold.until > now)
        .map(([key, hold]) => ({ key, ...hold }));
    },
  };
}
