// The poller tells how each cycle ended, so the service's metrics need no wrapping of its calls: a
// cycle that completes reports its tickets and duration; one whose Jira search fails reports the
// failure, and the poller goes on to the next cycle.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { createLogger } from '../../src/logger.js';
import type { StepJob } from '../../src/queue/index.js';
import { runPoller, type CycleReport } from '../../src/service/poller.js';
import { REPO_ROOT } from '../support/definitions.js';
import { MemoryJira } from '../support/memory-jira.js';
import { until } from '../support/poll.js';
import { restoreTicket } from '../support/tickets.js';

const logger = createLogger({ level: 'silent' });
let definitions: Definitions;

beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

/** Runs the poller until `enough` says stop; what it reported, in order. */
async function cycles(jira: MemoryJira, enough: (ended: string[]) => boolean) {
  const ended: string[] = [];
  const reports: CycleReport[] = [];
  const durations: number[] = [];
  const enqueued: StepJob[] = [];
  const abort = new AbortController();
  const poller = runPoller({
    jira,
    definitions,
    enqueue: (job) => (enqueued.push(job), Promise.resolve()),
    now: () => new Date(),
    timeScale: 1,
    logger,
    intervalMs: 1,
    signal: abort.signal,
    onCycle: (report, seconds) => (ended.push('ok'), reports.push(report), durations.push(seconds)),
    onCycleFailed: (seconds) => (ended.push('failed'), durations.push(seconds)),
  });
  await until('the poller to report its cycles', () => enough(ended));
  abort.abort();
  await poller.done;
  return { ended, reports, durations, enqueued };
}

describe('poller cycles', () => {
  it('reports a completed cycle with its tickets by status and its duration', async () => {
    const jira = new MemoryJira([restoreTicket()]);
    const { ended, reports, durations, enqueued } = await cycles(jira, (seen) => seen.length >= 1);
    expect(ended[0]).toBe('ok');
    expect(reports[0]?.tickets).toBe(1);
    expect(reports[0]?.byStatus).toEqual({ [restoreTicket().status]: 1 });
    expect(durations.every((seconds) => Number.isFinite(seconds) && seconds >= 0)).toBe(true);
    expect(enqueued.map((job) => job.key)).toContain(restoreTicket().key);
  });

  it('reports a cycle whose search failed as failed, and polls again', async () => {
    const jira = new MemoryJira([restoreTicket()]);
    let searches = 0;
    const search = jira.searchPage.bind(jira);
    jira.searchPage = () => (++searches === 1 ? Promise.reject(new Error('Jira answered 503')) : search());
    const { ended } = await cycles(jira, (seen) => seen.includes('ok'));
    expect(ended.slice(0, 2)).toEqual(['failed', 'ok']);
  });
});
