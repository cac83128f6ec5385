// Jira misbehaving the way Jira Cloud does: 20 % of calls answered 5xx, 10 % 429 with Retry-After,
// every answer slow, and a search index 5 s behind the issues. The adapter's backoff absorbs the
// errors; the worker's consistent re-read (GET issue) keeps a lagging search from acting twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainText } from '../../src/jira/adf.js';
import { brokenGuarantees, drained, settle, summary } from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';

const TICKETS = 50;
const FAULTS = { serverErrorRate: 0.2, rateLimitRate: 0.1, retryAfterSeconds: 1, latencyMs: 40 };

describe('faults: Jira 5xx, 429, slow answers and a lagging search', () => {
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    env = await startFaultEnvironment({ sandbox: { searchLagMs: 5_000 } });
    await env.seedTickets('jira', TICKETS);
    // Seeding is people using Jira; the faults are for the bot, from here on.
    env.sandbox.setFaults(FAULTS);
  });
  afterAll(() => env?.stop());

  it('brings every ticket through with no step run twice and no comment posted twice', async () => {
    const w = env!;
    w.processes.start('poll');
    w.processes.start('work');
    w.processes.start('work');

    // A ticket whose report could not reach Jira waits out the planner's 120 s grace before it goes
    // to a person; on a loaded machine that can come late in the run, hence more than the usual bound.
    await settle(w, { timeoutMs: 400_000 });
    w.sandbox.setFaults({});
    const queue = await drained(w);

    expect(brokenGuarantees(w)).toEqual([]);
    // A ticket not Done went to a person because a step's report could not reach Jira in time and
    // the step has no done_when check (it is not run again on a guess); the comment says so.
    // That is the exception, not the way through: most tickets must reach Done (50 of 50 in the
    // recorded runs), so a run where the faults stop every ticket cannot pass.
    let done = 0;
    for (const ticket of w.tickets) {
      const snapshot = w.sandbox.snapshot(ticket.key);
      if (snapshot?.status === 'Done') {
        done += 1;
        continue;
      }
      expect(plainText(snapshot?.comments.at(-1)?.body), ticket.key).toMatch(/was interrupted/);
    }
    expect(done).toBeGreaterThanOrEqual(TICKETS * 0.8);
    const counts = w.sandbox.requestCounts();
    console.info(
      'faults summary',
      JSON.stringify(
        summary(w, {
          scenario: 'Jira faults',
          jiraRequests: Object.values(counts).reduce((a, b) => a + b, 0),
          queue: queue.counts,
        }),
      ),
    );
  }, 450_000);
});
