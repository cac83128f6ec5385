// A wait step past its deadline: one last check decides. A step that finished while its check sat in
// the queue moves on; one that is still not done goes to a person with the last check's output.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/poll.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const DONE_HOST = 'web-1.wait.internal';
const STUCK_HOST = 'web-2.wait.internal';
const MANAGER = 'manager-0.wait.internal';

describe('wait step: the deadline', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld({
      name: 'wait-deadline',
      // The check interval is longer than the timeout: the first check the bot makes is the last one.
      steps: ({ work }) => `
memtest:
  kind: wait
  target: '{{ host }}'
  check: cat ${work}/{{ host.short }}
  done_when: { output: '^PASSED' }
  interval: 10m
  timeout: 1s
`,
      workflow: `statuses:
  Memcheck Running: { step: memtest, next: Done }
`,
      sshd: { knownHostsNames: [DONE_HOST, STUCK_HOST, MANAGER] },
      inventory: ({ sshd }) =>
        `sites:\n  wait:\n    hosts: '\\.wait\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`,
      roles: false,
    });
  });
  afterAll(() => world?.stop());

  it('moves on when the last check finds the step done, and escalates when it does not', async () => {
    const w = world!;
    await writeFile(path.join(w.work, 'web-1'), 'PASSED\n');
    await writeFile(path.join(w.work, 'web-2'), 'RUNNING pass 1/2\n');
    const done = await w.seed(DONE_HOST, { rmaDone: true });
    const stuck = await w.seed(STUCK_HOST, { rmaDone: true });
    // Both memtests started two minutes ago (as Jira records it): the 1 s deadline is long past.
    const startedAt = new Date(Date.now() - 120_000).toISOString();
    for (const key of [done.key, stuck.key]) {
      await w.setBookkeeping(key, { status: 'Memcheck Running', visit: 1, enteredAt: startedAt, startedAt });
    }
    await w.startService();

    await until('both tickets to leave Memcheck Running', () =>
      [done.key, stuck.key].every((key) => w.sandbox.snapshot(key)?.status !== 'Memcheck Running'),
    );
    expect(w.sandbox.snapshot(done.key)?.status).toBe('Done');
    expect(w.sandbox.snapshot(stuck.key)?.status).toBe('Actionable');
    const [failure] = w.comments(stuck.key).filter((text) => text.includes('memtest failed'));
    expect(failure).toMatch(/did not finish by its deadline/);
    expect(failure).toContain('RUNNING pass 1/2');
  });
});
