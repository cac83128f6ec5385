// Two pollers and three workers at once, as separate processes against one Redis: job ids per
// ticket visit make every poll cycle and every poller enqueue a step once, and a step runs once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenGuarantees, countByStatus, drained, settle, summary } from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';

const TICKETS = 50;

describe('faults: two pollers and three workers', () => {
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    env = await startFaultEnvironment();
    await env.seedTickets('scale', TICKETS);
  });
  afterAll(() => env?.stop());

  it('brings every ticket to Done with each step run once and each comment posted once', async () => {
    const w = env!;
    for (let i = 0; i < 2; i += 1) w.processes.start('poll');
    for (let i = 0; i < 3; i += 1) w.processes.start('work');

    await settle(w, { timeoutMs: 150_000 });
    const queue = await drained(w);

    expect(brokenGuarantees(w)).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS });
    expect(queue.failed).toEqual([]);
    console.info(
      'faults summary',
      JSON.stringify(summary(w, { scenario: 'two pollers, three workers', queue: queue.counts })),
    );
  });
});
