// SIGTERM during long steps: the workers stop taking work, let the running steps finish and report,
// and exit 0. Nothing is cut short, so nothing needs a person; new workers carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainText } from '../../src/jira/adf.js';
import {
  brokenGuarantees,
  commandsInFlight,
  countByStatus,
  drained,
  settle,
  summary,
} from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';

const TICKETS = 50;

describe('faults: SIGTERM during long steps', () => {
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    env = await startFaultEnvironment({ profile: { syncMs: 2_500, rebalanceMs: 2_500 } });
    await env.seedTickets('term', TICKETS);
  });
  afterAll(() => env?.stop());

  it('lets running steps finish, exits 0, and loses nothing', async () => {
    const w = env!;
    w.processes.start('poll');
    const workers = [w.processes.start('work'), w.processes.start('work')];

    const running = await commandsInFlight(w, 4);
    const exits = await Promise.all(workers.map((worker) => w.processes.stop(worker)));
    expect(exits).toEqual(workers.map(() => ({ code: 0, signal: null })));
    // Every command that was running when the signal came ran to its end on the host.
    const after = w.fleet.commands();
    for (const command of running) {
      const final = after.find(
        (c) => c.host === command.host && c.at === command.at && c.command === command.command,
      );
      expect(final?.state, `${command.host}: ${command.command}`).toBe('exited');
    }
    expect(after.filter((command) => command.state === 'abandoned')).toEqual([]);

    w.processes.start('work');
    w.processes.start('work');
    await settle(w, { timeoutMs: 120_000 });
    const queue = await drained(w);

    expect(brokenGuarantees(w)).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS });
    const interrupted = w.tickets.filter(({ key }) =>
      (w.sandbox.snapshot(key)?.comments ?? []).some((c) => plainText(c.body).includes('was interrupted')),
    );
    expect(interrupted).toEqual([]);
    console.info(
      'faults summary',
      JSON.stringify(
        summary(w, { scenario: 'SIGTERM x2 workers', running: running.length, queue: queue.counts }),
      ),
    );
  });
});
