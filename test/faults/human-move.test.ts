// A person moves a ticket while its step runs on the host. The step finishes, but its transition is
// refused (the ticket is no longer in the step's status): the person's decision stands, the bot
// neither moves the ticket back nor comments on it, and runs nothing more for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  brokenGuarantees,
  countByStatus,
  drained,
  playOperator,
  settle,
  statusOf,
  summary,
} from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { until } from '../support/poll.js';

const TICKETS = 50;
const MOVES = 10;

describe('faults: a person moves a ticket while its step runs', () => {
  let env: FaultEnvironment | undefined;
  beforeAll(async () => {
    env = await startFaultEnvironment({ profile: { syncMs: 2_000, rebalanceMs: 2_000 } });
    await env.seedTickets('human', TICKETS);
  });
  afterAll(() => env?.stop());

  it('leaves the ticket where the person put it', async () => {
    const w = env!;
    w.processes.start('poll');
    w.processes.start('work');
    w.processes.start('work');

    // key → what the ticket looked like when the person moved it.
    const moved = new Map<string, { at: number; comments: number; from: string }>();
    await until(
      `${MOVES} tickets moved by a person mid-step`,
      () => {
        w.processes.assertNoneCrashed();
        playOperator(w);
        for (const command of w.fleet.commands()) {
          if (moved.size >= MOVES) break;
          if (command.state !== 'running' || !/storage-sync/.test(command.command)) continue;
          const ticket = w.tickets.find((t) => t.host === command.subject);
          const snapshot = ticket && w.sandbox.snapshot(ticket.key);
          if (!ticket || !snapshot || moved.has(ticket.key)) continue;
          if (snapshot.status !== 'Sync' && snapshot.status !== 'Second Sync') continue;
          w.sandbox.moveAsHuman(ticket.key, 'Actionable');
          moved.set(ticket.key, {
            at: Date.now(),
            comments: snapshot.comments.length,
            from: snapshot.status,
          });
        }
        return moved.size >= MOVES;
      },
      { timeoutMs: 60_000, everyMs: 10 },
    );

    const others = w.tickets.filter((ticket) => !moved.has(ticket.key));
    await settle(w, { timeoutMs: 120_000, tickets: others });
    const queue = await drained(w);

    expect(brokenGuarantees(w, { humanMoved: new Set(moved.keys()) })).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS - MOVES, Actionable: MOVES });
    for (const [key, before] of moved) {
      expect(statusOf(w, key), key).toBe('Actionable');
      // No "done, moving on" comment after the person's move: the transition carrying it was refused.
      expect(w.sandbox.snapshot(key)?.comments.length, key).toBe(before.comments);
      // The sync that was running finished; nothing else about the host was sent afterwards.
      const host = w.tickets.find((t) => t.key === key)?.host;
      const later = w.fleet
        .commands()
        .filter((command) => command.subject === host && command.at > before.at);
      expect(later, key).toEqual([]);
    }
    console.info(
      'faults summary',
      JSON.stringify(
        summary(w, { scenario: 'human moves mid-step', moved: moved.size, queue: queue.counts }),
      ),
    );
  });
});
