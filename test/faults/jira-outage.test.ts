// Jira down (every call 5xx) for longer than the retries last: the adapter's backoff and the queue's
// three attempts give up, and the job fails. When Jira is back, the next poll must find the work
// again: a failed job may not hold its ticket visit's job id hostage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokenGuarantees, drained, queueState, settle } from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { until } from '../support/poll.js';

const TICKETS = 6;

describe('faults: a Jira outage longer than the retries', () => {
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    env = await startFaultEnvironment();
    await env.seedTickets('outage', TICKETS);
  });
  afterAll(() => env?.stop());

  // A job that used up its attempts is dropped (removeOnFail), so the next poll enqueues its visit
  // again once Jira is back: nothing waits a day behind a kept failed job id.
  it('carries on with every ticket once Jira is back', async () => {
    const w = env!;
    // The poller finds the work (each ticket's gate transition) before Jira goes down…
    w.processes.start('poll');
    await until(
      'a job queued for every ticket',
      async () => ((await queueState(w)).counts.waiting ?? 0) >= TICKETS,
    );
    w.sandbox.setFaults({ serverErrorRate: 1 });
    // …and the worker meets the outage, which lasts until the queue has given up on every job (a job
    // that used up its attempts is removed, so the queue runs empty while Jira is still down).
    w.processes.start('work');
    await until(
      'every job to use up its attempts',
      async () => {
        const { counts } = await queueState(w);
        const pending = ['waiting', 'active', 'delayed', 'prioritized'].reduce(
          (sum, state) => sum + (counts[state] ?? 0),
          0,
        );
        return pending === 0;
      },
      { timeoutMs: 90_000, everyMs: 500 },
    );
    // Nothing moved while Jira was down: every ticket still waits at the gate.
    expect(w.tickets.map((ticket) => w.sandbox.snapshot(ticket.key)?.status)).toEqual(
      w.tickets.map(() => 'Waiting for RMA'),
    );
    w.sandbox.setFaults({});

    await settle(w, { timeoutMs: 30_000 });
    await drained(w);
    expect(brokenGuarantees(w)).toEqual([]);
  });
});
