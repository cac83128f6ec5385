// The run both Redis failover scenarios share (Sentinel, Cluster): the poller and two workers start,
// Redis fails over while steps run on the hosts, and the guarantees hold afterwards on the promoted
// server: every ticket Done, no step run twice, no comment twice, no failed job.
import { expect } from 'vitest';
import { brokenGuarantees, commandsInFlight, countByStatus, drained, settle, summary } from './checks.js';
import type { FaultEnvironment } from './env.js';

export interface Failover {
  /** Kills the master and returns once a replica has taken over. */
  failOver(): Promise<void>;
  /** The environment as the promoted server holds the queues (queueState reads one server). */
  promoted(): Promise<FaultEnvironment>;
  scenario: string;
  /** How long the queue may take to drain once the tickets settled (default 30 s). */
  drainMs?: number;
}

export async function runThroughFailover(w: FaultEnvironment, failover: Failover): Promise<void> {
  w.processes.start('poll');
  w.processes.start('work');
  w.processes.start('work');
  await commandsInFlight(w, 3);
  const before = w.fleet.commands().length;
  await failover.failOver();

  await settle(w, { timeoutMs: 180_000 });
  const queue = await drained(await failover.promoted(), failover.drainMs);
  w.processes.assertNoneCrashed();
  expect(w.fleet.commands().length).toBeGreaterThan(before);
  expect(brokenGuarantees(w)).toEqual([]);
  expect(countByStatus(w)).toEqual({ Done: w.tickets.length });
  expect(queue.failed).toEqual([]);
  console.info(
    'faults summary',
    JSON.stringify(summary(w, { scenario: failover.scenario, queue: queue.counts })),
  );
}
