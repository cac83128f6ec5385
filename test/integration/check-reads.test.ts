// A wait step's check rounds over the real adapter, the Jira sandbox and a real sshd: a round that
// finds the step still running reads the ticket light (fields and bookkeeping) and writes nothing;
// one whose result calls for a move reads the ticket in full first and moves only what that read
// still calls for: a ticket a person moved meanwhile stays where they put it, and a transition
// screen the full read shows refusing the move is told instead of the move being tried.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { SshRunner } from '../../src/executors/ssh/index.js';
import { createJiraAdapter, type JiraPort } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import type { StepJob } from '../../src/queue/index.js';
import { createRunner } from '../../src/runner/runner.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const NAME = 'check-reads';
const HOSTS = ['web-1', 'web-2', 'web-3', 'web-4'].map((short) => `${short}.reads.internal`);
const MANAGER = 'manager-0.reads.internal';
const TRANSITIONS = 'POST /rest/api/3/issue/{issueIdOrKey}/transitions';

describe('wait step: what a check round reads', () => {
  let world: World | undefined;
  let ssh: SshRunner | undefined;
  let definitions: Definitions;
  const logger = createLogger({ level: 'silent' });
  let seeded = 0;

  beforeAll(async () => {
    world = await startWorld({
      name: NAME,
      steps: ({ work }) => `
soak:
  kind: wait
  target: '{{ host }}'
  check: cat ${work}/{{ host.short }}
  done_when: { output: '^PASSED' }
  interval: 10m
  timeout: 12h
`,
      workflow: `statuses:
  Soak: { step: soak, next: Done }
`,
      sshd: { knownHostsNames: [...HOSTS, MANAGER] },
      inventory: ({ sshd }) =>
        `sites:\n  reads:\n    hosts: '\\.reads\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`,
      redis: false,
      roles: false,
    });
    ssh = new SshRunner({
      privateKey: world.config.RUNBOT_SSH_KEY,
      knownHostsFile: world.config.RUNBOT_KNOWN_HOSTS,
      logger,
    });
    definitions = await loadDefinitions({ root: world.root });
  });
  afterAll(async () => {
    await ssh?.close();
    await world?.stop();
  });

  const adapter = () => createJiraAdapter({ url: world!.jiraUrl, ...world!.credentials, logger });

  /** A ticket in Soak whose check began 35 minutes ago (round 3 of a 12-hour wait), answering `check`. */
  async function soaking(check: string): Promise<{ key: string; job: StepJob }> {
    const host = HOSTS[seeded++]!;
    const { key } = await world!.seed(host, { rmaDone: true });
    const enteredAt = new Date(Date.now() - 35 * 60_000).toISOString();
    await adapter().setBookkeeping(key, { status: 'Soak', visit: 1, enteredAt });
    await writeFile(path.join(world!.work, host.split('.')[0]!), `${check}\n`);
    const job: StepJob = {
      key,
      workflow: NAME,
      status: 'Soak',
      visit: 1,
      kind: 'checkStep',
      site: 'reads',
      dueAt: Date.now(), // a later round: put back once already, so it reads light
    };
    return { key, job };
  }

  /** The real adapter, each read it makes recorded; `beforeFull` acts just before a full read. */
  function recorded(beforeFull: (key: string) => void = () => undefined) {
    const jira = adapter();
    const reads: ('light' | 'full')[] = [];
    const port: JiraPort = {
      ...jira,
      getTicketFields(key, shape) {
        reads.push('light');
        return jira.getTicketFields(key, shape);
      },
      getTicket(key, shape) {
        reads.push('full');
        beforeFull(key);
        return jira.getTicket(key, shape);
      },
    };
    return { port, reads };
  }

  const check = (jira: JiraPort, with_: Definitions = definitions) =>
    createRunner({
      jira,
      runner: ssh!,
      definitions: with_,
      now: () => new Date(),
      dryRun: false,
      logger,
      timeScale: 1,
    });
  const moves = () => world!.sandbox.requestCounts()[TRANSITIONS] ?? 0;
  const attempt = { number: 1, last: false };

  it('a round that finds the step still running reads light and writes nothing', async () => {
    const { key, job } = await soaking('RUNNING pass 1/2');
    const before = world!.sandbox.snapshot(key);
    const { port, reads } = recorded();

    expect(await check(port)(job, attempt)).toMatchObject({ kind: 'again', result: 'pending', step: 'soak' });
    expect(reads).toEqual(['light']);
    expect(world!.sandbox.snapshot(key)?.status).toBe('Soak');
    expect(world!.sandbox.snapshot(key)?.properties).toEqual(before?.properties);
    expect(world!.comments(key)).toEqual([]);
  });

  it('a round that finds the step done reads the ticket in full, then moves it on', async () => {
    const { key, job } = await soaking('PASSED');
    const { port, reads } = recorded();

    expect(await check(port)(job, attempt)).toEqual({ kind: 'done', result: 'transitioned', step: 'soak' });
    expect(reads).toEqual(['light', 'full']);
    expect(world!.status(key)).toBe('Done');
    expect(world!.comments(key)).toEqual([expect.stringContaining('✅ soak done') as string]);
  });

  it('a ticket a person moved between the two reads stays where they put it', async () => {
    const { key, job } = await soaking('PASSED');
    const { port, reads } = recorded((read) => world!.sandbox.moveAsHuman(read, 'Actionable'));
    const movesBefore = moves();

    expect(await check(port)(job, attempt)).toEqual({ kind: 'stale', reason: 'no longer wanted' });
    expect(reads).toEqual(['light', 'full']);
    expect(world!.status(key)).toBe('Actionable');
    expect(moves()).toBe(movesBefore);
    expect(world!.comments(key)).toEqual([]);
  });

  it('a move to Done whose screen needs a Resolution the workflow does not give is refused on the full read', async () => {
    const { key, job } = await soaking('PASSED');
    const workflow = definitions.workflows.get(NAME)!;
    const noResolution: Definitions = {
      ...definitions,
      workflows: new Map([[NAME, { ...workflow, transitions: {} }]]),
    };
    const { port, reads } = recorded();

    expect(await check(port, noResolution)(job, attempt)).toMatchObject({
      kind: 'done',
      result: 'escalated',
    });
    expect(reads).toEqual(['light', 'full']);
    expect(world!.status(key)).toBe('Actionable');
    const comments = world!.comments(key);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('Resolution');
  });
});
