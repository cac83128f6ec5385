// Fleet-scale safety over the real parts: the Jira sandbox, a real redis-server, a real sshd, and
// the service's own poller and workers. One restore per host (the second ticket waits at the gate
// with one comment and proceeds when the first is done); a step marked approve runs nothing until a
// person approves its plan, and a changed plan is put up again; a manual step assigns the ticket,
// sets its due date and mentions the assignee; host names that are not host names reach no host.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/definitions/index.js';
import type { CommandRunner } from '../../src/executors/types.js';
import { createJiraAdapter, type JiraPort } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import type { StepJob } from '../../src/queue/index.js';
import { createRunner } from '../../src/runner/runner.js';
import { until } from '../support/poll.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const HOST = 'web-1.safe.internal';
const OTHER = 'web-2.safe.internal';
const MANAGER = 'manager-0.safe.internal';
const ASSIGNEE = '712020:5b10ac8d82e05b22cc7d4ef5';

const inventory = ({ sshd }: Parameters<typeof sshOf>[0] extends infer S ? { sshd: S } : never) =>
  `sites:\n  safe:\n    hosts: '\\.safe\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`;

const basic = (w: World) =>
  `Basic ${Buffer.from(`${w.credentials.email}:${w.credentials.apiToken}`).toString('base64')}`;

async function trace(w: World): Promise<string[]> {
  const file = path.join(w.work, 'trace');
  return existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n') : [];
}

describe('one active restore per host', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld({
      name: 'exclusive',
      // Each run writes its start and end: two restores of one host must never overlap.
      steps: ({ work }) => `
restore:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['echo start {{ ticket.key }} {{ host }} >> ${work}/trace; sleep 1; echo end {{ ticket.key }} {{ host }} >> ${work}/trace']
  timeout: 30s
`,
      workflow: `gate: { status: Waiting for RMA, link: is blocked by, next: Restore }
statuses:
  Restore: { step: restore, next: Done }
exclusive: { inputs: [host] }
`,
      sshd: { knownHostsNames: [MANAGER] },
      inventory: ({ sshd }) => inventory({ sshd }),
      roles: false,
    });
  });
  afterAll(() => world?.stop());

  it('the second ticket for a host waits with one comment naming the first, then proceeds', async () => {
    const w = world!;
    const first = await w.seed(HOST, { rmaDone: true });
    const second = await w.seed(HOST, { rmaDone: true });
    const other = await w.seed(OTHER, { rmaDone: true });
    // Two workers' worth: both tickets pass the gate in the same poll cycle.
    await w.startService();
    await w.startService({ poll: true, work: true, http: false });
    await until(
      'all three tickets Done',
      () => [first, second, other].every(({ key }) => w.sandbox.snapshot(key)?.status === 'Done'),
      { timeoutMs: 60_000 },
    );
    const held = w.comments(second.key).filter((text) => text.includes(`Waiting for ${first.key}`));
    expect(held).toHaveLength(1);
    expect(held[0]).toContain(`${first.key} is open for the same host`);
    expect(w.comments(first.key).some((text) => text.includes('Waiting for'))).toBe(false);
    expect(w.comments(other.key).some((text) => text.includes('Waiting for'))).toBe(false);
    // On the host: the first restore ended before the second began, each ran once.
    const lines = (await trace(w)).filter((line) => line.endsWith(HOST));
    expect(lines).toEqual([
      `start ${first.key} ${HOST}`,
      `end ${first.key} ${HOST}`,
      `start ${second.key} ${HOST}`,
      `end ${second.key} ${HOST}`,
    ]);
  });
});

describe('approval before a destructive step, and a routed manual step', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld({
      name: 'approval',
      steps: ({ work }) => `
wipe:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['echo wipe {{ ticket.key }} {{ host.short }} >> ${work}/trace']
  timeout: 30s
  approve: true
alert:
  kind: manual
  target: '{{ site.manager }}'
  title: Enable alerting for {{ host }}
  instructions: [{ text: 'Enable it, then move the ticket to Done.' }]
  assign: { account_id: '${ASSIGNEE}' }
  due_in: 4h
`,
      workflow: `gate: { status: Waiting for RMA, link: is blocked by, next: Wipe }
statuses:
  Wipe: { step: wipe, next: Alert }
  Alert: { step: alert, next: Done }
approval: { status: Awaiting Approval, approved: Approved }
`,
      sshd: { knownHostsNames: [MANAGER] },
      inventory: ({ sshd }) => inventory({ sshd }),
      logLevel: 'silent',
    });
  });
  afterAll(() => world?.stop());

  it('posts the plan, runs nothing until a person approves, then runs it and routes the manual step', async () => {
    const w = world!;
    const { key } = await w.seed(HOST, { rmaDone: true });
    await until(
      'the ticket to wait for approval',
      () => w.sandbox.snapshot(key)?.status === 'Awaiting Approval',
    );
    const [request] = w.comments(key).filter((text) => text.includes('Approval required: wipe'));
    expect(request).toMatch(/\non \S+@manager-0\.safe\.internal:\d+\n/);
    expect(request).toContain(`$ echo wipe ${key} web-1 >> `);
    const hash = /Plan sha256 ([0-9a-f]{64})/.exec(request ?? '')?.[1];
    expect(hash).toBeDefined();
    expect(w.sandbox.snapshot(key)?.properties.runbot).toMatchObject({ awaiting: { step: 'wipe', hash } });
    // Nothing runs while it waits: several poll cycles pass, the host sees no command.
    const searches = w.searches();
    await until('three more poll cycles', () => w.searches() >= searches + 3);
    expect(await trace(w)).toEqual([]);
    expect(w.sandbox.snapshot(key)?.status).toBe('Awaiting Approval');

    w.sandbox.moveAsHuman(key, 'Approved');
    await until('the manual step after the approved one', () => w.sandbox.snapshot(key)?.status === 'Alert');
    expect(await trace(w)).toEqual([`wipe ${key} web-1`]);
    // Routing lands after the comment and before the visit is recorded as instructed.
    await until(
      'the manual step recorded as instructed',
      () => (w.sandbox.snapshot(key)?.properties.runbot as { instructed?: boolean } | undefined)?.instructed,
    );
    const snapshot = w.sandbox.snapshot(key)!;
    expect(snapshot.fields.assignee).toMatchObject({ accountId: ASSIGNEE });
    // due_in: 4h after the ticket entered Alert, as the bookkeeping records it.
    const enteredAt = (snapshot.properties.runbot as { enteredAt: string }).enteredAt;
    expect(snapshot.fields.duedate).toBe(
      new Date(Date.parse(enteredAt) + 4 * 3600_000).toISOString().slice(0, 10),
    );
    const posted = snapshot.comments.find((c) => JSON.stringify(c.body).includes('Action Required'));
    expect(JSON.stringify(posted?.body)).toContain(`"type":"mention","attrs":{"id":"${ASSIGNEE}"`);
    expect(w.comments(key).filter((text) => text.includes('Action Required')).length).toBe(1);
  });

  it('a plan that differs from the approved one is put up for approval again, and nothing runs', async () => {
    const w = world!;
    // Its RMA stays open: the ticket waits at the gate until a person takes it and hands it back.
    const { key } = await w.seed(OTHER);
    w.sandbox.moveAsHuman(key, 'Actionable');
    // As if a person approved an earlier plan of wipe (the runbook changed since): another hash.
    const stale = { step: 'wipe', hash: '0'.repeat(64) };
    const response = await fetch(`${w.jiraUrl}/rest/api/3/issue/${key}/properties/runbot`, {
      method: 'PUT',
      headers: { authorization: basic(w), 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'Wipe',
        visit: 1,
        enteredAt: new Date().toISOString(),
        approved: stale,
      }),
    });
    expect(response.ok).toBe(true);
    w.sandbox.moveAsHuman(key, 'Wipe');
    await until(
      'the ticket to wait for approval',
      () => w.sandbox.snapshot(key)?.status === 'Awaiting Approval',
    );
    expect((await trace(w)).filter((line) => line.includes(key))).toEqual([]);
    expect(w.comments(key).filter((text) => text.includes('Approval required: wipe'))).toHaveLength(1);
  });
});

describe('one active restore per host: the workers decide again', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld({
      name: 'exclusive-race',
      steps: `
restore:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['true']
  timeout: 30s
`,
      workflow: `gate: { status: Waiting for RMA, link: is blocked by, next: Restore }
statuses:
  Restore: { step: restore, next: Done }
exclusive: { inputs: [host] }
`,
      inventory: `sites:\n  safe:\n    hosts: '\\.safe\\.internal$'\n    manager: ${MANAGER}\n    ssh: { user: runbot }\n`,
      redis: false,
      roles: false,
    });
  });
  afterAll(() => world?.stop());

  it('two gate jobs for one host, read at the same moment: only the older ticket starts', async () => {
    const w = world!;
    const older = await w.seed(HOST, { rmaDone: true });
    const newer = await w.seed(HOST, { rmaDone: true });
    const logger = createLogger({ level: 'silent' });
    const jira = createJiraAdapter({ url: w.jiraUrl, ...w.credentials, logger });
    const definitions = await loadDefinitions({ root: w.root });
    // Each worker waits until both have read their own ticket at the gate: the same cycle, raced.
    let read = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const together: JiraPort = {
      ...jira,
      async getTicket(key, shape) {
        const ticket = await jira.getTicket(key, shape);
        if (key === older.key || key === newer.key) {
          read += 1;
          if (read === 2) release();
          await bothRead;
        }
        return ticket;
      },
    };
    const runner: CommandRunner = {
      run: () => Promise.reject(new Error('a gate job runs no command')),
      close: () => Promise.resolve(),
    };
    const processJob = createRunner({
      jira: together,
      runner,
      definitions,
      now: () => new Date(),
      dryRun: false,
      logger,
      timeScale: 1,
    });
    const job = (key: string): StepJob => ({
      key,
      workflow: 'exclusive-race',
      status: 'Waiting for RMA',
      visit: 1,
      kind: 'transition',
    });
    const attempt = { number: 1, last: false };
    // As a poller with a stale view would have it: both tickets were planned to start.
    const outcomes = await Promise.all([
      processJob(job(newer.key), attempt),
      processJob(job(older.key), attempt),
    ]);
    expect(outcomes).toEqual([
      { kind: 'stale', reason: 'no longer wanted' },
      { kind: 'done', result: 'transitioned' },
    ]);
    expect(w.sandbox.snapshot(older.key)?.status).toBe('Restore');
    expect(w.sandbox.snapshot(newer.key)?.status).toBe('Waiting for RMA');
  });
});
