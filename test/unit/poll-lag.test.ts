// runbot_poll_lag_seconds: how stale the poller's view of Jira is. A poller that has never completed
// a cycle (Jira refuses it from the start) shows a lag growing from when it began to poll, so the
// suggested alert (`> 5 * RUNBOT_POLL_INTERVAL`) fires for it too; a process that does not poll shows 0.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';

const START = new Date('2026-12-01T10:00:00Z');

async function lag(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('runbot_poll_lag_seconds');
  return Number(/^runbot_poll_lag_seconds (\S+)$/m.exec(text)?.[1]);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('runbot_poll_lag_seconds', () => {
  it('grows from the poller’s start while every cycle fails, and from the last success after one', async () => {
    vi.useFakeTimers({ now: START, toFake: ['Date'] });
    const metrics = createMetrics();
    metrics.pollerStarted();
    metrics.pollCycleEnded(0.2, undefined);
    vi.setSystemTime(START.getTime() + 90_000);
    metrics.pollCycleEnded(0.2, undefined);
    expect(await lag(metrics)).toBe(90);

    metrics.pollCycleEnded(0.3, { Sync: 1 });
    vi.setSystemTime(START.getTime() + 100_000);
    expect(await lag(metrics)).toBe(10);
  });

  it('stays 0 in a process that does not poll', async () => {
    vi.useFakeTimers({ now: START, toFake: ['Date'] });
    const metrics = createMetrics();
    vi.setSystemTime(START.getTime() + 90_000);
    expect(await lag(metrics)).toBe(0);
  });
});
