import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { isActionable, planTicket, type Decision, type Ticket } from '../../src/planner/index.js';
import { jobFor, jobId } from '../../src/queue/index.js';
import { REPO_ROOT } from '../support/definitions.js';
import { restoreTicket } from '../support/tickets.js';

let definitions: Definitions;
beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

const NOW = new Date('2026-11-23T12:00:00Z');

function plan(overrides: Partial<Ticket> = {}, now = NOW): Decision {
  const workflow = definitions.workflows.get('rma-restore')!;
  return planTicket({
    ticket: restoreTicket(overrides),
    workflow,
    runbook: definitions.runbooks.get(workflow.runbook)!,
    inventory: definitions.inventory,
    now,
  });
}

describe('planner: gate on the linked RMA', () => {
  it('waits while the RMA is not done', () => {
    const decision = plan({
      status: 'Waiting for RMA',
      links: [
        {
          relation: 'is blocked by',
          key: 'RMA-1893',
          status: 'In Progress',
          statusCategory: 'indeterminate',
        },
      ],
    });
    expect(decision).toEqual({ kind: 'nothing', reason: 'waiting for RMA-1893 (In Progress)' });
  });

  it('moves to Memcheck once the RMA is done', () => {
    const decision = plan({ status: 'Waiting for RMA' });
    expect(decision).toMatchObject({ kind: 'transition', to: 'Memcheck', reason: 'RMA-1893 done' });
  });

  it('escalates a ticket with no RMA link', () => {
    expect(plan({ status: 'Waiting for RMA', links: [] })).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: 'No linked RMA ticket',
    });
  });
});

describe('planner: ssh steps', () => {
  it('runs sync on the site manager with the short host name', () => {
    const decision = plan();
    expect(decision).toMatchObject({
      kind: 'runStep',
      target: { host: 'manager-0.dev2.internal', port: 22, user: 'runbot' },
      commands: ['sudo -n /usr/sbin/storage-sync --node container-101-08'],
      step: { name: 'sync', next: 'Blacklist Removal', runbook: 'rma-restore' },
      timeoutSeconds: 7200,
      expect: { exit: 0, output: 'sync complete' },
    });
  });

  it('starts a new visit when the status differs from the bookkeeping', () => {
    const decision = plan({
      bookkeeping: { status: 'Memcheck Running', visit: 4, enteredAt: '2026-11-23T10:00:00Z' },
    });
    expect(decision.kind !== 'nothing' && decision.visit).toMatchObject({
      isNew: true,
      bookkeeping: { status: 'Sync', visit: 5 },
    });
  });

  it('waits while a step it began may still be running', () => {
    const running = { step: 'sync', since: '2026-11-23T11:00:00Z' };
    const decision = plan({
      bookkeeping: { status: 'Sync', visit: 5, enteredAt: '2026-11-23T10:00:00Z', running },
    });
    // Until its 2 h timeout and the 120 s its report is given have passed; its job waits that long.
    expect(decision).toEqual({
      kind: 'nothing',
      reason: 'sync running since 2026-11-23T11:00:00Z',
      running: { step: 'sync', status: 'Sync', visit: 5, until: '2026-11-23T13:02:00.000Z' },
    });
  });

  it('does not run a step again that was interrupted and has no done_when check', () => {
    const running = { step: 'sync', since: '2026-11-23T09:00:00Z' };
    const decision = plan({
      bookkeeping: { status: 'Sync', visit: 5, enteredAt: '2026-11-23T09:00:00Z', running },
    });
    expect(decision).toMatchObject({ kind: 'escalate', title: 'Step sync was interrupted' });
  });

  it('runs an interrupted step again when its done_when check can tell', () => {
    const decision = plan({
      status: 'Blacklist Removal',
      bookkeeping: {
        status: 'Blacklist Removal',
        visit: 5,
        enteredAt: '2026-11-23T10:00:00Z',
        running: { step: 'blacklist-removal', since: '2026-11-23T10:00:00Z' },
      },
    });
    expect(decision).toMatchObject({
      kind: 'runStep',
      resumed: true,
      doneWhen: { command: 'sudo -n /usr/sbin/blacklist show container-101-08.dev2.internal' },
    });
  });

  it('leaves a paused ticket alone', () => {
    expect(plan({ labels: ['runbot-pause'] })).toEqual({
      kind: 'nothing',
      reason: 'paused by label runbot-pause',
    });
  });

  it('ignores statuses that run no step', () => {
    expect(plan({ status: 'Actionable' })).toMatchObject({ kind: 'nothing' });
  });
});

describe('planner: bad tickets escalate, never guess', () => {
  it.each([
    ['an empty host field', undefined, 'Field customfield_10042 is empty'],
    ['shell metacharacters', 'web1.dev2.internal; rm -rf /', 'Field customfield_10042 is not a valid host'],
    ['command substitution', '$(reboot).dev2.internal', 'Field customfield_10042 is not a valid host'],
    ['a host outside the inventory', 'db-3.elsewhere.internal', 'Host not in the inventory'],
  ])('%s', (_name, host, title) => {
    expect(plan({ inputs: { host } })).toMatchObject({ kind: 'escalate', to: 'Actionable', title });
  });
});

describe('planner: memcheck wait step', () => {
  const running = {
    status: 'Memcheck Running',
    visit: 3,
    enteredAt: '2026-11-23T11:00:00Z',
    startedAt: '2026-11-23T11:00:00Z',
  };

  it('checks once per interval round, one job for every round of the visit', () => {
    const decision = plan({ status: 'Memcheck Running', bookkeeping: running });
    expect(decision).toMatchObject({
      kind: 'checkStep',
      round: 6,
      // 11:00 + 7 × the 10-minute interval: when a check that finds it still running comes back.
      nextRoundAt: '2026-11-23T12:10:00.000Z',
      command: 'sudo -n /usr/local/sbin/memcheck status',
      doneWhen: '^PASSED',
    });
  });

  it('gives every round of a visit one job id, and the last check its own', () => {
    const ids = ['2026-11-23T12:00:00Z', '2026-11-23T12:10:00Z', '2026-11-24T00:00:01Z'].map((at) => {
      const decision = plan({ status: 'Memcheck Running', bookkeeping: running }, new Date(at));
      return isActionable(decision) ? jobId(jobFor(decision)) : decision.kind;
    });
    // A check still running comes back as the same job, so a backlog cannot queue rounds behind one another.
    expect(ids).toEqual(['HOT-7.v3.checkStep', 'HOT-7.v3.checkStep', 'HOT-7.v3.checkStep.final']);
  });

  it('plans one last check once the memtest outlives its timeout', () => {
    const decision = plan(
      { status: 'Memcheck Running', bookkeeping: running },
      new Date('2026-11-24T00:00:01Z'),
    );
    expect(decision).toMatchObject({ kind: 'checkStep', final: true, deadline: '2026-11-23T23:00:00.000Z' });
  });
});

describe('planner: manual step', () => {
  it('renders the Action Required instructions for the site manager', () => {
    const decision = plan({ status: 'Enable Alerting' });
    expect(decision).toMatchObject({
      kind: 'postInstructions',
      where: 'manager-0.dev2.internal',
      title: 'Enable alerting for container-101-08.dev2.internal',
    });
    expect(decision.kind === 'postInstructions' && decision.blocks[0]?.commands).toEqual([
      'sudo /usr/sbin/uc_nagios.py container-101-08',
      'sudo /usr/sbin/uc_nagios.py container-101-08 -i',
    ]);
  });

  it('posts nothing more once the instructions are out', () => {
    const bookkeeping = {
      status: 'Enable Alerting',
      visit: 2,
      enteredAt: '2026-11-23T11:00:00Z',
      instructed: true,
    };
    expect(plan({ status: 'Enable Alerting', bookkeeping })).toMatchObject({ kind: 'nothing' });
  });
});

describe('planner: control characters in ticket fields', () => {
  it('escalates a host field holding a NUL even where the pattern would let it through', () => {
    const definitionsWithLoosePattern = structuredClone(definitions.runbooks.get('rma-restore')!);
    definitionsWithLoosePattern.runbook.inputs.host = { pattern: '^[^;]+$' };
    const workflow = definitions.workflows.get('rma-restore')!;
    const decision = planTicket({
      ticket: restoreTicket({ inputs: { host: 'web-1.dev2.internal\u0000x' } }),
      workflow,
      runbook: definitionsWithLoosePattern,
      inventory: definitions.inventory,
      now: NOW,
    });
    expect(decision).toMatchObject({
      kind: 'escalate',
      title: 'Field customfield_10042 is not a valid host',
    });
    expect(decision.kind === 'escalate' && decision.reason).toContain('control character U+0000');
  });
});

describe('planner: bad tickets are told at the gate', () => {
  it('escalates a bad host before the restore starts, even when the RMA is done', () => {
    const decision = plan({ status: 'Waiting for RMA', inputs: { host: 'web1; reboot' } });
    expect(decision).toMatchObject({
      kind: 'escalate',
      title: 'Field customfield_10042 is not a valid host',
    });
  });
});
