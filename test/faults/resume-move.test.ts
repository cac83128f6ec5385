// A resumed step whose move Jira keeps refusing. The step's worker was gone, so the bot resumes it
// (its done_when check first); the resume runs, and its move to the next status fails as often as
// the adapter tries. The queue retries the job, and the retry finds the resume's own running mark:
// the job waits until the mark lapses and then finishes the step, instead of ending as stale and
// keeping its job id (and so the ticket) stuck for as long as the queue keeps a finished job.
// It waits out the planner's 120 s grace for a running step, hence a fault scenario.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF } from '../../src/jira/backoff.js';
import { startLostAnswerProxy, type LostAnswerProxy } from '../support/faults/jira-proxy.js';
import { until } from '../support/poll.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const HOST = 'web-1.resume.internal';
const MANAGER = 'manager-0.resume.internal';

describe("faults: a resumed step's move refused until its job gives up an attempt", () => {
  let world: World | undefined;
  let proxy: LostAnswerProxy | undefined;
  beforeAll(async () => {
    world = await startWorld({
      name: 'resume-move',
      steps: ({ work }) => `
sync:
  kind: ssh
  target: '{{ host }}'
  commands:
    - echo ran >> ${work}/{{ host.short }}.ran && echo synced > ${work}/{{ host.short }}.done && echo sync complete
  done_when:
    command: cat ${work}/{{ host.short }}.done
    output: '^synced'
  timeout: 1s
  expect: { output: 'sync complete' }
`,
      workflow: `statuses:
  Sync: { step: sync, next: Done }
`,
      sshd: { knownHostsNames: [HOST, MANAGER] },
      inventory: ({ sshd }) =>
        `sites:\n  resume:\n    hosts: '\\.resume\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`,
      roles: false,
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await world?.stop();
  });

  it('waits out its own running mark and then moves the ticket on, the step run once', async () => {
    const w = world!;
    const { key } = await w.seed(HOST, { rmaDone: true });
    // The bot began sync ten minutes ago and its worker was gone: the poller plans a resume at once.
    const since = new Date(Date.now() - 600_000).toISOString();
    await w.setBookkeeping(key, {
      status: 'Sync',
      visit: 1,
      enteredAt: since,
      running: { step: 'sync', since },
    });
    // Every try of the resume's first move is refused, so that attempt of its job fails.
    const moves = `/rest/api/3/issue/${key}/transitions`;
    proxy = await startLostAnswerProxy(
      w.jiraUrl,
      () => false,
      ({ method, path: asked, nth }) =>
        method === 'POST' && asked === moves && nth <= DEFAULT_BACKOFF.maxAttempts,
    );
    await w.startService(undefined, { config: { JIRA_URL: proxy.url } });

    await until(
      'the first move to be refused as often as the adapter tries',
      () => proxy!.refused.length >= DEFAULT_BACKOFF.maxAttempts,
    );
    await until('the ticket to leave Sync', () => w.status(key) !== 'Sync', { timeoutMs: 280_000 });

    expect(w.status(key)).toBe('Done');
    // The commands ran once, in the resume; the retry found the step done by its done_when check.
    expect(w.workFile('web-1.ran')).toBe('ran\n');
    const reports = w.comments(key).filter((text) => text.includes('sync done'));
    expect(reports).toHaveLength(1);
  }, 300_000);
});
