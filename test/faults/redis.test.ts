// Redis holds work in flight only. Flush it, or stop it and start an empty one on the same port,
// while steps run: the workers finish what they hold, the poller re-derives every job from Jira,
// and the bookkeeping in Jira keeps a re-derived job from running a step a second time.
import { afterEach, describe, expect, it } from 'vitest';
import {
  brokenGuarantees,
  commandsInFlight,
  countByStatus,
  drained,
  settle,
  summary,
} from '../support/faults/checks.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { until } from '../support/poll.js';

const TICKETS = 50;

/** Claims read back after settling (docs/reliability.md): the bot's only reads of its property alone. */
const settledClaims = (w: FaultEnvironment) =>
  w.sandbox.requestCounts()['GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}'] ?? 0;

describe('faults: Redis lost mid-run', () => {
  let env: FaultEnvironment | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  async function start(prefix: string): Promise<FaultEnvironment> {
    env = await startFaultEnvironment({ profile: { syncMs: 1_200, rebalanceMs: 1_200 } });
    await env.seedTickets(prefix, TICKETS);
    env.processes.start('poll');
    env.processes.start('work');
    env.processes.start('work');
    return env;
  }

  /** The end of both scenarios: every ticket Done, the guarantees kept, and the figures printed. */
  async function everyTicketDoneOnce(w: FaultEnvironment, scenario: string): Promise<void> {
    await settle(w, { timeoutMs: 180_000 });
    const queue = await drained(w);
    expect(brokenGuarantees(w)).toEqual([]);
    expect(countByStatus(w)).toEqual({ Done: TICKETS });
    const figures = { scenario, settledClaims: settledClaims(w), queue: queue.counts };
    console.info('faults summary', JSON.stringify(summary(w, figures)));
  }

  it('FLUSHALL twice while steps run: every ticket Done, no step twice, no comment twice', async () => {
    const w = await start('flush');
    for (let flush = 0; flush < 2; flush += 1) {
      await commandsInFlight(w, 3);
      await w.redis.flushAll();
    }
    await everyTicketDoneOnce(w, 'FLUSHALL x2');
  });

  it('Redis killed and started again empty on the same port: every ticket Done, no step twice', async () => {
    const w = await start('restart');
    await commandsInFlight(w, 3);
    await w.redis.stop({ hard: true });
    // The outage lasts until a step that was running when Redis died has reported to Jira: the
    // workers carry on without Redis, and what they did must not be done again afterwards.
    const reports = () => w.sandbox.requestCounts()['POST /rest/api/3/issue/{issueIdOrKey}/transitions'] ?? 0;
    const reportsBefore = reports();
    await until('a transition during the outage', () => reports() > reportsBefore);
    await w.redis.start();

    await everyTicketDoneOnce(w, 'Redis SIGKILL + restart');
  });
});
