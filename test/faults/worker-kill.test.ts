// SIGKILL a worker process mid-step, again and again, and start a new one each time. A step cut
// short is never run again on a guess: the bookkeeping written before it ran tells the next plan it
// began; once it cannot still be running, a step with done_when is checked and resumed, and one
// without goes to a person with a comment. This waits out the planner's 120 s grace once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainText } from '../../src/jira/adf.js';
import { until } from '../support/poll.js';
import { brokenGuarantees, commandsInFlight, drained, settle, summary } from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';

const TICKETS = 50;
const WORKERS = 2;
/** What each round's kill waits to see running: a step with done_when, then one without, twice. */
const ROUNDS = [/blacklist remove/, /storage-/, /blacklist remove/, /storage-/];
const abandoned = (env: FaultEnvironment) =>
  env.fleet.commands().filter((command) => command.state === 'abandoned').length;

describe('faults: a worker killed mid-step', () => {
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    // Long syncs and rebalances, so that kills land while commands run on the hosts.
    env = await startFaultEnvironment({ profile: { syncMs: 1_500, rebalanceMs: 1_500, blacklistMs: 800 } });
    await env.seedTickets('kill', TICKETS, { rmaDone: false });
  });
  afterAll(() => env?.stop());

  it('loses no ticket, runs no step twice, and explains every interrupted step', async () => {
    const w = env!;
    w.processes.start('poll');
    for (let i = 0; i < WORKERS; i += 1) w.processes.start('work');

    // The repair team closes the RMAs in four batches, so tickets are spread over the steps. Each
    // round opens a batch, waits for a step command in flight on the hosts, then SIGKILLs every
    // worker, so the kill lands mid-step, and starts as many new ones. Nothing warns the bot.
    const batch = TICKETS / ROUNDS.length;
    let kills = 0;
    for (const [round, pattern] of ROUNDS.entries()) {
      for (const ticket of w.tickets.slice(round * batch, (round + 1) * batch)) {
        w.sandbox.moveAsHuman(ticket.rma, 'Done');
      }
      await commandsInFlight(w, 1, { pattern });
      const abandonedBefore = abandoned(w);
      for (const victim of w.processes.running('work')) {
        await w.processes.kill(victim);
        kills += 1;
      }
      // Their SSH connections drop with them, and the hosts cut their commands short.
      await until('the killed workers’ commands cut short', () => abandoned(w) > abandonedBefore);
      for (let i = 0; i < WORKERS; i += 1) w.processes.start('work');
    }

    await settle(w, { timeoutMs: 240_000 });
    const queue = await drained(w);

    expect(brokenGuarantees(w)).toEqual([]);
    // Every ticket not Done was escalated because a step without done_when was interrupted.
    for (const ticket of w.tickets) {
      const snapshot = w.sandbox.snapshot(ticket.key);
      if (snapshot?.status === 'Done') continue;
      expect(plainText(snapshot?.comments.at(-1)?.body), ticket.key).toMatch(
        /Step (sync|second-sync|rebalance) was interrupted/,
      );
    }
    // A blacklist removal cut short was resumed: its done_when check ran, found the host still
    // listed, and the removal ran again to completion; the ticket went on to Done.
    const resumed = w.tickets.filter(({ key, host }) => {
      const removals = w.fleet
        .commands()
        .filter((command) => command.subject === host && /blacklist remove/.test(command.command));
      return (
        removals[0]?.state === 'abandoned' &&
        removals.at(-1)?.state === 'exited' &&
        w.sandbox.snapshot(key)?.status === 'Done'
      );
    });
    expect(resumed.length).toBeGreaterThan(0);
    expect(queue.failed.filter((job) => /stalled/.test(job.reason))).toEqual([]);
    console.info(
      'faults summary',
      JSON.stringify(
        summary(w, {
          scenario: 'SIGKILL workers',
          kills,
          blacklistRemovalResumed: resumed.length,
          queue: queue.counts,
        }),
      ),
    );
  });
});
