// The runner over an in-memory Jira and a fake command runner: what each kind of job comes to (its
// Outcome), and what it wrote to the ticket. Then the handler: what each Outcome does to a BullMQ job.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { IpmiAuthError, IpmiUnreachableError } from '../../src/executors/ipmi/index.js';
import { SshConnectError } from '../../src/executors/ssh/index.js';
import type {
  CommandResult,
  CommandRunner,
  IpmiExecutor,
  IpmiResult,
  SshTarget,
} from '../../src/executors/types.js';
import { createLogger } from '../../src/logger.js';
import type { Ticket } from '../../src/planner/index.js';
import type { StepJob, StepLimiter } from '../../src/queue/index.js';
import { jobHandler, StepRetry } from '../../src/runner/handler.js';
import type { Outcome } from '../../src/runner/outcome.js';
import { createRunner, type RunnerDeps } from '../../src/runner/runner.js';
import {
  bmcInventory,
  bmcRunbook,
  bmcTicket,
  bmcWorkflow,
  loadedBmcRunbook,
} from '../support/bmc-planning.js';
import { REPO_ROOT } from '../support/definitions.js';
import { MemoryJira } from '../support/memory-jira.js';
import { restoreTicket } from '../support/tickets.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const logger = createLogger({ level: 'silent' });

let definitions: Definitions;
beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return restoreTicket({
    bookkeeping: { status: 'Sync', visit: 3, enteredAt: '2026-11-23T11:00:00.000Z' },
    ...overrides,
  });
}

/** The ticket in Sync, its sync begun at `since` (its running mark). */
function syncRunning(since: string, visit: { visit: number; enteredAt: string }): Ticket {
  return ticket({ bookkeeping: { status: 'Sync', ...visit, running: { step: 'sync', since } } });
}

/** The runner under test: no dry run, the clock at NOW, the shipped definitions unless `deps` says. */
const runnerOver = (deps: Pick<RunnerDeps, 'jira' | 'runner'> & Partial<RunnerDeps>) =>
  createRunner({ definitions, now: () => NOW, dryRun: false, logger, timeScale: 1, ...deps });

const syncJob: StepJob = {
  key: 'HOT-7',
  workflow: 'rma-restore',
  status: 'Sync',
  visit: 3,
  kind: 'runStep',
  site: 'dev2',
  step: 'sync',
};

const result = (exitCode: number, stdout: string): CommandResult => ({
  exitCode,
  stdout,
  stderr: '',
  durationMs: 5,
  timedOut: false,
  truncated: false,
});

const unreachable = (target: SshTarget) =>
  new SshConnectError({
    host: target.host,
    port: target.port,
    address: target.address ?? target.host,
    user: target.user,
    reason: 'unreachable',
    cause: new Error('connect ECONNREFUSED'),
  });

/** Runs commands by answering from `answer`; records what ran, and what the ticket's mark was then. */
function fakeRunner(jira: MemoryJira, answer: (target: SshTarget, command: string) => CommandResult) {
  const ran: { command: string; markedRunning: boolean }[] = [];
  const runner: CommandRunner = {
    run: async (target, command) => {
      ran.push({ command, markedRunning: jira.peek('HOT-7')?.bookkeeping?.running !== undefined });
      return Promise.resolve().then(() => answer(target, command));
    },
    close: () => Promise.resolve(),
  };
  return { runner, ran };
}

interface Case {
  name: string;
  ticket?: Ticket | undefined;
  job?: StepJob;
  deps?: Partial<RunnerDeps>;
  answer?: (target: SshTarget, command: string) => CommandResult;
  last?: boolean;
  outcome: Outcome | ((outcome: Outcome) => void);
  /** What the ticket and the runner show afterwards. */
  after?: (jira: MemoryJira, ran: { command: string; markedRunning: boolean }[]) => void;
}

const fullCap = {
  hasRoom: () => Promise.resolve(false),
  tryAcquire: () => Promise.resolve(undefined),
} as unknown as StepLimiter;

const CASES: Case[] = [
  {
    name: 'runs the step, marked running first, and moves the ticket on',
    answer: () => result(0, 'sync complete\n'),
    outcome: { kind: 'done', result: 'transitioned', step: 'sync' },
    after: (jira, ran) => {
      expect(ran).toEqual([
        { command: expect.stringContaining('storage-sync') as string, markedRunning: true },
      ]);
      expect(jira.peek('HOT-7')).toMatchObject({
        status: 'Blacklist Removal',
        bookkeeping: { status: 'Blacklist Removal', visit: 4 },
      });
      expect(jira.comments('HOT-7')[0]).toMatch(/^✅ sync done/);
    },
  },
  {
    name: 'fails the step on unexpected output: to the failure status, with the reason',
    answer: () => result(0, 'sync aborted\n'),
    outcome: { kind: 'done', result: 'failed', step: 'sync' },
    after: (jira) => {
      expect(jira.peek('HOT-7')?.status).toBe('Actionable');
      expect(jira.comments('HOT-7')[0]).toContain('did not match sync complete');
    },
  },
  {
    name: 'retries an unreachable host, taking its running mark back (nothing ran)',
    answer: (target) => {
      throw unreachable(target);
    },
    outcome: (outcome) =>
      expect(outcome).toMatchObject({
        kind: 'retry',
        reason: expect.stringContaining('ECONNREFUSED') as string,
      }),
    after: (jira) => {
      expect(jira.peek('HOT-7')).toMatchObject({ status: 'Sync', bookkeeping: { visit: 3 } });
      expect(jira.peek('HOT-7')?.bookkeeping?.running).toBeUndefined();
      expect(jira.comments('HOT-7')).toEqual([]);
    },
  },
  {
    name: 'fails the step on the last attempt when the host stays unreachable',
    answer: (target) => {
      throw unreachable(target);
    },
    last: true,
    outcome: { kind: 'done', result: 'failed', step: 'sync' },
    after: (jira) => expect(jira.comments('HOT-7')[0]).toContain('could not reach'),
  },
  {
    name: 'ends a job whose ticket moved on as stale, writing nothing',
    ticket: ticket({
      status: 'Blacklist Removal',
      bookkeeping: { status: 'Blacklist Removal', visit: 4, enteredAt: 'x' },
    }),
    outcome: { kind: 'stale', reason: 'no longer wanted' },
    after: (jira, ran) => {
      expect(jira.writes()).toEqual([]);
      expect(ran).toEqual([]);
    },
  },
  {
    name: 'ends a job whose ticket is gone',
    ticket: undefined,
    outcome: { kind: 'stale', reason: 'gone' },
  },
  {
    name: 'retries a job naming a workflow this worker has not loaded (another may have), without reading Jira',
    job: { ...syncJob, workflow: 'nope' },
    outcome: { kind: 'retry', reason: 'workflow nope is not loaded by this worker' },
    after: (jira) => expect(jira.calls).toEqual([]),
  },
  {
    name: 'defers a step whose cap is full, before it costs a Jira read',
    deps: { caps: { limiter: fullCap, global: 1 } },
    outcome: { kind: 'deferred', reason: 'cap reached: global 1' },
    after: (jira) => expect(jira.calls).toEqual([]),
  },
  {
    name: 'defers every job while paused',
    deps: { paused: () => Promise.resolve('maintenance') },
    outcome: { kind: 'deferred', reason: 'maintenance' },
    after: (jira) => expect(jira.calls).toEqual([]),
  },
  {
    name: 'in a dry run runs nothing, moves nothing and says what it would do, once',
    deps: { dryRun: true, caps: { limiter: fullCap, global: 1 } },
    answer: () => result(0, 'sync complete\n'),
    outcome: { kind: 'done', result: 'dry-run', step: 'sync' },
    after: (jira, ran) => {
      expect(ran).toEqual([]);
      expect(jira.peek('HOT-7')?.status).toBe('Sync');
      expect(jira.writes().map((write) => write.call)).toEqual(['addComment']);
      expect(jira.comments('HOT-7')[0]).toContain('storage-sync');
    },
  },
  // The next four: what a resume job comes to depends on the fresh plan alone (runner/holds.ts), so
  // the shipped sync step stands in for a step with done_when, the only kind that is resumed.
  {
    name: "a resumed step's job that finds the resume's own mark (its move failed) comes back when the mark lapses",
    ticket: syncRunning('2026-11-23T09:58:10.000Z', { visit: 3, enteredAt: '2026-11-23T09:00:00.000Z' }),
    job: { ...syncJob, resume: true },
    outcome: {
      kind: 'deferred',
      reason: 'sync may still be running (until 2026-11-23T12:00:10.000Z)',
      delayMs: 10_000,
    },
    after: (jira, ran) => {
      expect(ran).toEqual([]);
      expect(jira.writes()).toEqual([]);
    },
  },
  {
    // sync may run 2 h, and its report gets 120 s more: looked at again in 5 min, the longest wait.
    name: "a resumed step's job whose mark lapses later looks again in 5 min",
    ticket: syncRunning('2026-11-23T11:59:00.000Z', { visit: 3, enteredAt: '2026-11-23T09:00:00.000Z' }),
    job: { ...syncJob, resume: true },
    outcome: {
      kind: 'deferred',
      reason: 'sync may still be running (until 2026-11-23T14:01:00.000Z)',
      delayMs: 300_000,
    },
  },
  {
    name: "a first run's job that finds its step running is stale: the poller plans the resume once the mark lapses",
    ticket: syncRunning('2026-11-23T11:59:00.000Z', { visit: 3, enteredAt: '2026-11-23T09:00:00.000Z' }),
    outcome: { kind: 'stale', reason: 'no longer wanted' },
  },
  {
    name: "a resumed step's job of an earlier visit is stale, though the step is running in this one",
    ticket: syncRunning('2026-11-23T11:59:00.000Z', { visit: 4, enteredAt: '2026-11-23T11:50:00.000Z' }),
    job: { ...syncJob, resume: true },
    outcome: { kind: 'stale', reason: 'no longer wanted' },
  },
  {
    name: 'escalates a step that began and whose worker is gone (no done_when): never run on a guess',
    ticket: syncRunning('2026-11-23T08:00:01.000Z', { visit: 3, enteredAt: '2026-11-23T08:00:00.000Z' }),
    job: { ...syncJob, kind: 'escalate', step: undefined },
    outcome: { kind: 'done', result: 'escalated' },
    after: (jira, ran) => {
      expect(ran).toEqual([]);
      expect(jira.peek('HOT-7')?.status).toBe('Actionable');
    },
  },
];

describe('runner: what a job comes to', () => {
  it.each(CASES)('$name', async (test) => {
    const stored = 'ticket' in test ? test.ticket : ticket();
    const jira = new MemoryJira(stored ? [stored] : []);
    const { runner, ran } = fakeRunner(jira, test.answer ?? (() => result(0, '')));
    const run = runnerOver({ jira, runner, ...test.deps });

    const outcome = await run(test.job ?? syncJob, { number: 1, last: test.last ?? false });

    if (typeof test.outcome === 'function') test.outcome(outcome);
    else expect(outcome).toEqual(test.outcome);
    test.after?.(jira, ran);
  });

  it('a person moving the ticket meanwhile wins: the move is refused and nothing else is written', async () => {
    const jira = new MemoryJira([ticket()]);
    const { runner } = fakeRunner(jira, () => {
      jira.peek('HOT-7')!.status = 'Actionable';
      return result(0, 'sync complete\n');
    });
    const run = runnerOver({ jira, runner });

    expect(await run(syncJob, { number: 1, last: false })).toEqual({
      kind: 'done',
      result: 'refused',
      step: 'sync',
    });
    expect(jira.comments('HOT-7')).toEqual([]);
  });
});

describe('runner: a wait step has one check job per visit, run again each round', () => {
  const memtest = () =>
    ticket({
      status: 'Memcheck Running',
      bookkeeping: { status: 'Memcheck Running', visit: 3, enteredAt: '2026-11-23T11:00:00.000Z' },
    });
  /** The visit's check job on a later round (put back before, so due at NOW), or its last check. */
  const check = (final?: true): StepJob => ({
    key: 'HOT-7',
    workflow: 'rma-restore',
    status: 'Memcheck Running',
    visit: 3,
    kind: 'checkStep',
    site: 'dev2',
    ...(final ? { final } : { dueAt: NOW.getTime() }),
  });

  it('a check that finds the step still running comes back, the same job, when the next round begins', async () => {
    const jira = new MemoryJira([memtest()]);
    const { runner, ran } = fakeRunner(jira, () => result(0, 'RUNNING\n'));
    const run = runnerOver({ jira, runner });

    // Entered at 11:00, checked at 12:00 (round 6 of 10 minutes): round 7 begins at 12:10.
    expect(await run(check(), { number: 1, last: false })).toEqual({
      kind: 'again',
      result: 'pending',
      delayMs: 600_000,
      step: 'memcheck-wait',
    });
    expect(ran.map((r) => r.command)).toEqual([expect.stringContaining('memcheck status') as string]);
    // A round after the first reads light (check-reads.ts) and writes nothing.
    expect(jira.calls.map((call) => call.call)).toEqual(['getTicketFields']);
  });

  it('the last check, past the deadline, reads in full and moves the ticket on', async () => {
    const jira = new MemoryJira([memtest()]);
    jira.peek('HOT-7')!.bookkeeping!.enteredAt = '2026-11-22T11:00:00.000Z';
    const { runner, ran } = fakeRunner(jira, () => result(0, 'PASSED\n'));
    const run = runnerOver({ jira, runner });

    expect(await run(check(true), { number: 1, last: false })).toMatchObject({
      kind: 'done',
      result: 'transitioned',
    });
    expect(jira.calls[0]?.call).toBe('getTicket');
    expect(ran).toHaveLength(1);
    // The last check moves the ticket whatever it finds: it plans from the full read alone.
    expect(jira.calls.map((call) => call.call)).toEqual(['getTicket', 'transitionTo']);
  });
});

describe('runner: a check round reads light, and in full before it writes', () => {
  const memtest = (overrides: Partial<Ticket> = {}) =>
    ticket({
      status: 'Memcheck Running',
      bookkeeping: { status: 'Memcheck Running', visit: 3, enteredAt: '2026-11-23T11:00:00.000Z' },
      ...overrides,
    });
  /** The visit's check job on its first run, or on a later round (put back before, so due at NOW). */
  const check = (run: 'first' | 'later'): StepJob => ({
    key: 'HOT-7',
    workflow: 'rma-restore',
    status: 'Memcheck Running',
    visit: 3,
    kind: 'checkStep',
    site: 'dev2',
    ...(run === 'later' ? { dueAt: NOW.getTime() } : {}),
  });
  const screen = (to: string, required: boolean) => ({
    to,
    fields: required
      ? [
          {
            key: 'customfield_10077',
            name: 'Verified by',
            required,
            hasDefaultValue: false,
            allowedValues: [],
          },
        ]
      : [],
  });
  const reads = (jira: MemoryJira) => jira.calls.map((call) => call.call);

  it('a finished check reads the ticket in full before it moves it on', async () => {
    const jira = new MemoryJira([memtest()]);
    const { runner } = fakeRunner(jira, () => result(0, 'PASSED\n'));

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toEqual({
      kind: 'done',
      result: 'transitioned',
      step: 'memcheck-wait',
    });
    expect(reads(jira)).toEqual(['getTicketFields', 'getTicket', 'transitionTo']);
    expect(jira.peek('HOT-7')).toMatchObject({ status: 'Sync', bookkeeping: { visit: 4 } });
  });

  it('a failed check (fail_when) reads in full before it moves the ticket to the failure status', async () => {
    const jira = new MemoryJira([memtest()]);
    const { runner } = fakeRunner(jira, () => result(0, 'FAILED dimm B2\n'));

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toMatchObject({
      kind: 'done',
      result: 'failed',
    });
    expect(reads(jira)).toEqual(['getTicketFields', 'getTicket', 'transitionTo']);
    expect(jira.peek('HOT-7')?.status).toBe('Actionable');
  });

  it('a ticket moved on between the two reads is not moved again', async () => {
    const jira = new MemoryJira([memtest()]);
    // While the check runs, another worker's last check moves the ticket on, into its next visit.
    const { runner } = fakeRunner(jira, () => {
      jira.put(memtest({ status: 'Sync', bookkeeping: { status: 'Sync', visit: 4, enteredAt: 'x' } }));
      return result(0, 'PASSED\n');
    });

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toEqual({
      kind: 'stale',
      reason: 'no longer wanted',
    });
    expect(reads(jira)).toEqual(['getTicketFields', 'getTicket']);
    expect(jira.comments('HOT-7')).toEqual([]);
  });

  it("a host edited between the two reads: the old host's result moves nothing", async () => {
    const jira = new MemoryJira([memtest()]);
    const { runner } = fakeRunner(jira, () => {
      jira.peek('HOT-7')!.inputs = { host: 'container-101-09.dev2.internal' };
      return result(0, 'PASSED\n');
    });

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toEqual({
      kind: 'stale',
      reason: 'no longer wanted',
    });
    expect(jira.writes()).toEqual([]);
  });

  it('a move that the full read shows refused by a screen is refused, not made', async () => {
    const jira = new MemoryJira([
      memtest({ transitions: [screen('Sync', true), screen('Actionable', false)] }),
    ]);
    const { runner } = fakeRunner(jira, () => result(0, 'PASSED\n'));

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toMatchObject({
      kind: 'done',
      result: 'escalated',
    });
    expect(reads(jira)).toEqual(['getTicketFields', 'getTicket', 'transitionTo']);
    expect(jira.peek('HOT-7')?.status).toBe('Actionable');
    expect(jira.comments('HOT-7')[0]).toContain('Verified by');
  });

  it("records a person's move in as the start, on the full read", async () => {
    // A person moved the ticket in: the bookkeeping is still the previous status's.
    const jira = new MemoryJira([
      memtest({ bookkeeping: { status: 'Memcheck', visit: 2, enteredAt: '2026-11-23T10:00:00.000Z' } }),
    ]);
    const { runner } = fakeRunner(jira, () => result(0, 'RUNNING pass 1/2\n'));

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toMatchObject({
      kind: 'again',
      result: 'pending',
    });
    expect(reads(jira)).toEqual(['getTicketFields', 'getTicket', 'setBookkeeping']);
    expect(jira.peek('HOT-7')?.bookkeeping).toMatchObject({
      status: 'Memcheck Running',
      visit: 3,
      startedAt: NOW.toISOString(),
    });
  });

  it('an unreachable host is checked again next round, on the light read alone', async () => {
    const jira = new MemoryJira([memtest()]);
    const { runner } = fakeRunner(jira, (target) => {
      throw unreachable(target);
    });

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toMatchObject({
      kind: 'again',
      result: 'pending',
    });
    expect(reads(jira)).toEqual(['getTicketFields']);
  });

  it("a check job's first run reads in full, so a blocked screen is refused at the first check", async () => {
    const jira = new MemoryJira([
      memtest({ transitions: [screen('Sync', true), screen('Actionable', false)] }),
    ]);
    const { runner, ran } = fakeRunner(jira, () => result(0, 'RUNNING pass 1/2\n'));

    expect(await runnerOver({ jira, runner })(check('first'), { number: 1, last: false })).toMatchObject({
      kind: 'done',
      result: 'escalated',
    });
    expect(ran).toEqual([]);
    expect(reads(jira)).toEqual(['getTicket', 'transitionTo']);
  });

  it('a visit already told its moves are refused reads in full and is not checked', async () => {
    const jira = new MemoryJira([
      memtest({
        transitions: [screen('Sync', true), screen('Actionable', true)],
        bookkeeping: {
          status: 'Memcheck Running',
          visit: 3,
          enteredAt: '2026-11-23T11:00:00.000Z',
          instructed: true,
        },
      }),
    ]);
    const { runner, ran } = fakeRunner(jira, () => result(0, 'PASSED\n'));

    expect(await runnerOver({ jira, runner })(check('later'), { number: 1, last: false })).toEqual({
      kind: 'stale',
      reason: 'no longer wanted',
    });
    expect(ran).toEqual([]);
    expect(reads(jira)).toEqual(['getTicketFields', 'getTicket']);
  });

  it('the check job of a round that has passed is not wanted once the deadline has: the last check is', async () => {
    const jira = new MemoryJira([memtest()]);
    jira.peek('HOT-7')!.bookkeeping!.enteredAt = '2026-11-22T11:00:00.000Z';
    const { runner, ran } = fakeRunner(jira, () => result(0, 'PASSED\n'));
    const run = runnerOver({ jira, runner });

    expect(await run(check('later'), { number: 1, last: false })).toEqual({
      kind: 'stale',
      reason: 'no longer wanted',
    });
    expect(ran).toEqual([]);
  });
});

describe('runner: an IPMI step, and what its executor errors come to', () => {
  const runbook = bmcRunbook({
    'power-cycle': { kind: 'ipmi', target: '{{ host }}', action: 'power-cycle', timeout: '2m' },
  });
  const bmcDefinitions = (): Definitions => ({
    runbooks: new Map([['bmc', loadedBmcRunbook(runbook)]]),
    workflows: new Map([['bmc', bmcWorkflow({ 'Power Cycle': { step: 'power-cycle', next: 'Memcheck' } })]]),
    inventory: bmcInventory({
      dev2: {
        ipmi: { address: '{{ host.short }}-ipmi.dev2.internal', user: 'bmc-admin', password_env: 'IPMI_PW' },
      },
    }),
  });
  const bmcJob: StepJob = {
    key: 'HOT-9',
    workflow: 'bmc',
    status: 'Power Cycle',
    visit: 1,
    kind: 'runStep',
    site: 'dev2',
    step: 'power-cycle',
  };
  const fields = {
    host: 'db-3.dev2.internal',
    address: 'db-3-ipmi.dev2.internal',
    port: 623,
    user: 'bmc-admin',
  };
  const cycled: IpmiResult = {
    ...result(0, 'Chassis Power Control: Cycle\n'),
    command: 'ipmitool … chassis power cycle',
  };

  it.each([
    {
      name: 'power-cycles through the BMC and moves on',
      answer: () => Promise.resolve(cycled),
      outcome: { kind: 'done', result: 'transitioned', step: 'power-cycle' },
      status: 'Memcheck',
    },
    {
      name: 'retries a BMC that did not answer, its mark taken back',
      answer: () => Promise.reject(new IpmiUnreachableError({ ...fields, detail: 'timeout' })),
      outcome: { kind: 'retry', reason: expect.stringContaining('did not answer') as string },
      status: 'Power Cycle',
    },
    {
      name: 'fails the step when the BMC refuses the user, saying what to check',
      answer: () =>
        Promise.reject(new IpmiAuthError({ ...fields, passwordEnv: 'IPMI_PW', detail: 'RAKP 2' })),
      outcome: { kind: 'done', result: 'failed', step: 'power-cycle' },
      status: 'Actionable',
    },
  ])('$name', async ({ answer, outcome, status }) => {
    const jira = new MemoryJira([
      bmcTicket({ bookkeeping: { status: 'Power Cycle', visit: 1, enteredAt: '2026-11-23T11:00:00.000Z' } }),
    ]);
    const runIpmi = vi.fn(answer);
    const ipmi: IpmiExecutor = { run: runIpmi };
    const { runner, ran } = fakeRunner(jira, () => result(0, ''));
    const run = runnerOver({ jira, runner, ipmi, definitions: bmcDefinitions() });

    expect(await run(bmcJob, { number: 1, last: false })).toEqual(outcome);
    expect(runIpmi).toHaveBeenCalledWith(
      expect.objectContaining({ host: 'db-3.dev2.internal', address: 'db-3-ipmi.dev2.internal' }),
      'power-cycle',
      { timeoutSeconds: 120 },
    );
    expect(ran).toEqual([]);
    expect(jira.peek('HOT-9')?.status).toBe(status);
    if (outcome.kind === 'retry') expect(jira.peek('HOT-9')?.bookkeeping?.running).toBeUndefined();
  });
});

describe('handler: what each outcome does to the BullMQ job', () => {
  function bullJob() {
    const moveToDelayed = vi.fn(() => Promise.resolve());
    const updateData = vi.fn(() => Promise.resolve());
    const job = { data: syncJob, attemptsMade: 0, opts: { attempts: 3 }, moveToDelayed, updateData };
    return { job: job as unknown as Job<StepJob, string>, moveToDelayed, updateData };
  }
  const handled = (outcome: Outcome) => {
    const onOutcome = vi.fn();
    const onError = vi.fn();
    const { job, moveToDelayed, updateData } = bullJob();
    const handle = jobHandler(() => Promise.resolve(outcome), { logger, deferMs: 1000, onOutcome, onError });
    return { result: handle(job, 'token'), onOutcome, onError, moveToDelayed, updateData };
  };

  it.each([
    [{ kind: 'done', result: 'transitioned' }, 'transitioned'],
    [{ kind: 'stale', reason: 'gone' }, 'gone'],
    [{ kind: 'stale', reason: 'no longer wanted' }, 'stale'],
  ] as [Outcome, string][])('completes the job on %o, labelled %s', async (outcome, label) => {
    const { result, onOutcome, onError, moveToDelayed } = handled(outcome);
    await expect(result).resolves.toBe(label);
    expect(onOutcome).toHaveBeenCalledWith(syncJob, label);
    expect(onError).not.toHaveBeenCalled();
    expect(moveToDelayed).not.toHaveBeenCalled();
  });

  it('counts a round done and puts the same job back for the next round, without jitter or an attempt', async () => {
    const { result, onOutcome, onError, moveToDelayed, updateData } = handled({
      kind: 'again',
      result: 'pending',
      delayMs: 600_000,
    });
    await expect(result).rejects.toBeInstanceOf(DelayedError);
    const [at, token] = moveToDelayed.mock.calls[0] as unknown as [number, string];
    // The job notes when it is due again: its wait is counted from then (metrics.ts).
    expect(updateData).toHaveBeenCalledWith({ ...syncJob, dueAt: at });
    // Due when the round begins: no jitter (the test's own time between the calls aside).
    expect(at - Date.now()).toBeGreaterThan(590_000);
    expect(at - Date.now()).toBeLessThanOrEqual(600_000);
    expect(token).toBe('token');
    expect(onOutcome).toHaveBeenCalledWith(syncJob, 'pending');
    expect(onError).not.toHaveBeenCalled();
  });

  it('puts a deferred job back for its delay (with jitter), without using up an attempt', async () => {
    // The most jitter there can be.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { result, onOutcome, onError, moveToDelayed, updateData } = handled({
      kind: 'deferred',
      reason: 'cap',
      delayMs: 60_000,
    });
    await expect(result)
      .rejects.toBeInstanceOf(DelayedError)
      .finally(() => random.mockRestore());
    const [at, token] = moveToDelayed.mock.calls[0] as unknown as [number, string];
    // Jitter: up to half the delay, at most 5 s (a window's opening is known to the second).
    expect(at - Date.now()).toBeGreaterThan(50_000);
    expect(at - Date.now()).toBeLessThanOrEqual(65_000);
    expect(token).toBe('token');
    // A long deferral notes when it ends (its wait counts from then, metrics.ts), and not as `dueAt`:
    // not a round, a check job deferred before its first check still makes that check in full.
    expect(updateData).toHaveBeenCalledWith({ ...syncJob, deferredUntil: at });
    expect(onOutcome).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });

  it('notes nothing in a job deferred for seconds (its attempt start is near enough)', async () => {
    const { result, moveToDelayed, updateData } = handled({ kind: 'deferred', reason: 'paused' });
    await expect(result).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledTimes(1);
    expect(updateData).not.toHaveBeenCalled();
  });

  it('fails the attempt of a retry, so BullMQ retries with backoff, and counts it', async () => {
    const { result, onError } = handled({ kind: 'retry', reason: 'host down' });
    await expect(result).rejects.toBeInstanceOf(StepRetry);
    await expect(result).rejects.toThrow('host down');
    expect(onError).toHaveBeenCalledWith(syncJob);
  });

  it('fails a terminal job for good (no retries)', async () => {
    const { result, onError } = handled({ kind: 'terminal', reason: 'cannot work' });
    await expect(result).rejects.toBeInstanceOf(UnrecoverableError);
    expect(onError).toHaveBeenCalledWith(syncJob);
  });

  it('counts a thrown error and leaves it to BullMQ', async () => {
    const onError = vi.fn();
    const { job } = bullJob();
    const handle = jobHandler(() => Promise.reject(new Error('jira down')), { logger, onError });
    await expect(handle(job, 'token')).rejects.toThrow('jira down');
    expect(onError).toHaveBeenCalledWith(syncJob);
  });
});
