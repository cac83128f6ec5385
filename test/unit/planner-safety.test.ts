// The planner's fleet-scale safety decisions, pure: host names are host names (format: hostname),
// one open ticket per host (exclusive inputs, decided from the batch the search returned), steps
// that run only a plan a person approved, and manual steps routed to a person with a due date.
import { describe, expect, it } from 'vitest';
import {
  compileInputPatterns,
  hostnameProblem,
  InventorySchema,
  RunbookSchema,
  WorkflowSchema,
  type Workflow,
} from '../../src/definitions/index.js';
import {
  compareKeys,
  exclusiveHolders,
  planHash,
  planTicket,
  type Decision,
  type InputHolders,
  type Ticket,
} from '../../src/planner/index.js';
import { statusTable } from '../../src/service/status.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const HOST = 'container-101-08.dev2.internal';

const runbook = RunbookSchema.parse({
  name: 'safety',
  inputs: { host: { format: 'hostname' } },
  steps: {
    sync: {
      kind: 'ssh',
      target: '{{ site.manager }}',
      commands: ['sudo -n /usr/sbin/storage-sync --node {{ host.short }}'],
      timeout: '10m',
      approve: true,
    },
    'enable-alerting': {
      kind: 'manual',
      target: '{{ site.manager }}',
      title: 'Enable alerting for {{ host }}',
      instructions: [{ text: 'Run it.' }],
      assign: { account_id: '712020:abc' },
      due_in: '30h',
    },
    'by-participant': {
      kind: 'manual',
      target: '{{ site.manager }}',
      title: 'Check {{ host }}',
      instructions: [{ text: 'Check it.' }],
      assign: { field: 'customfield_10070' },
    },
  },
});

const workflowDefinition = {
  name: 'safety',
  runbook: 'safety',
  jira: { project: 'HOT', issue_type: 'RMA Restore' },
  fields: { host: 'customfield_10042' },
  gate: { status: 'Waiting for RMA', link: 'is blocked by', next: 'Sync' },
  statuses: {
    Sync: { step: 'sync', next: 'Enable Alerting' },
    'Enable Alerting': { step: 'enable-alerting', next: 'Check' },
    Check: { step: 'by-participant', next: 'Done' },
  },
  exclusive: { inputs: ['host'] },
  approval: { status: 'Awaiting Approval', approved: 'Approved' },
  failure: 'Actionable',
  done: 'Done',
};
const workflow = WorkflowSchema.parse(workflowDefinition);

const inventory = InventorySchema.parse({
  sites: {
    dev2: { hosts: '\\.dev2\\.internal$', manager: 'manager-0.dev2.internal', ssh: { user: 'runbot' } },
  },
});

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    key: 'HOT-7',
    status: 'Waiting for RMA',
    project: 'HOT',
    issueType: 'RMA Restore',
    labels: [],
    inputs: { host: HOST },
    links: [{ relation: 'is blocked by', key: 'RMA-1', status: 'Done', statusCategory: 'done' }],
    bookkeeping: undefined,
    ...overrides,
  };
}

function plan(
  overrides: Partial<Ticket> = {},
  options: { holders?: InputHolders; workflow?: Workflow; version?: string } = {},
): Decision {
  return planTicket({
    ticket: ticket(overrides),
    workflow: options.workflow ?? workflow,
    runbook: {
      runbook,
      file: 'runbooks/safety.yaml',
      version: options.version ?? 'abc123',
      inputPatterns: compileInputPatterns(runbook),
    },
    inventory,
    now: NOW,
    ...(options.holders ? { holders: options.holders } : {}),
  });
}

describe('format: hostname', () => {
  it('takes a lower-case RFC 1123 name', () => {
    expect(hostnameProblem(HOST)).toBeUndefined();
    expect(hostnameProblem(`${'a'.repeat(63)}.dev2.internal`)).toBeUndefined();
  });

  it.each([
    [
      '5,000 characters of valid labels',
      `${Array.from({ length: 81 }, () => 'a'.repeat(61)).join('.')}.dev2.internal`,
      /is 5\d{3} characters long; a host name has at most 253/,
    ],
    [
      'a 64-character label',
      `${'a'.repeat(64)}.dev2.internal`,
      /label 1 .* is 64 characters long; a label has at most 63/,
    ],
    ['upper case', 'Container-101-08.dev2.internal', /upper-case/],
    ['a Cyrillic look-alike', 'contаiner-101-08.dev2.internal', /contains "а" \(U\+0430\)/],
    ['a leading dash', '-c.dev2.internal', /may not start or end with "-"/],
    ['an underscore', 'c_1.dev2.internal', /label 1/],
    ['two dots in a row', 'c..dev2.internal', /empty label/],
  ])('refuses %s', (_name, host, problem) => {
    expect(hostnameProblem(host)).toMatch(problem);
  });

  it('escalates at the gate with the field, the value cut to 200 characters and the reason', () => {
    const host = `${Array.from({ length: 81 }, () => 'a'.repeat(61)).join('.')}.dev2.internal`;
    const decision = plan({ inputs: { host } });
    expect(decision).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: 'Field customfield_10042 is not a valid host',
    });
    if (decision.kind !== 'escalate') throw new Error('expected an escalation');
    expect(decision.reason).toContain('characters long; a host name has at most 253 (format: hostname)');
    expect(decision.reason.length).toBeLessThan(400);
  });

  it('needs a pattern or a format on every input', () => {
    const parsed = RunbookSchema.safeParse({ ...runbook, inputs: { host: { description: 'neither' } } });
    expect(parsed.success).toBe(false);
  });
});

describe('exclusive inputs: one open ticket per host', () => {
  const at = (key: string, status: string, host = HOST) => ticket({ key, status, inputs: { host } });

  it('orders keys as Jira creates them (HOT-9 before HOT-10)', () => {
    expect(compareKeys('HOT-9', 'HOT-10')).toBeLessThan(0);
    expect(['HOT-10', 'HOT-9', 'HOT-100'].sort(compareKeys)).toEqual(['HOT-9', 'HOT-10', 'HOT-100']);
  });

  it('a ticket past the gate holds the host before any ticket at the gate, whatever the keys', () => {
    const holders = exclusiveHolders([at('HOT-3', 'Waiting for RMA'), at('HOT-12', 'Sync')], workflow);
    expect([...holders.values()]).toEqual(['HOT-12']);
  });

  it('among tickets at the gate, the lowest key holds it; tickets in failure or done hold nothing', () => {
    const holders = exclusiveHolders(
      [
        at('HOT-10', 'Waiting for RMA'),
        at('HOT-9', 'Waiting for RMA'),
        at('HOT-2', 'Actionable'),
        at('HOT-1', 'Done'),
      ],
      workflow,
    );
    expect([...holders.values()]).toEqual(['HOT-9']);
  });

  it('compares host names as one spelling (trimmed, lower case)', () => {
    const holders = exclusiveHolders(
      [at('HOT-1', 'Sync', ` ${HOST.toUpperCase()} `), at('HOT-2', 'Waiting for RMA')],
      workflow,
    );
    expect(new Set(holders.values())).toEqual(new Set(['HOT-1']));
  });

  it('a second ticket for a host being restored waits with one comment naming the first', () => {
    const holders = exclusiveHolders([at('HOT-1', 'Sync'), at('HOT-2', 'Waiting for RMA')], workflow);
    expect(plan({ key: 'HOT-2' }, { holders })).toMatchObject({
      kind: 'hold',
      holder: 'HOT-1',
      input: 'host',
      value: HOST,
      next: 'Sync',
    });
  });

  it('once the comment is recorded, it waits without another', () => {
    const holders = exclusiveHolders([at('HOT-1', 'Sync'), at('HOT-2', 'Waiting for RMA')], workflow);
    const bookkeeping = {
      status: 'Waiting for RMA',
      visit: 1,
      enteredAt: NOW.toISOString(),
      heldBy: 'HOT-1',
    };
    expect(plan({ key: 'HOT-2', bookkeeping }, { holders })).toEqual({
      kind: 'nothing',
      reason: `waiting for HOT-1, which holds host ${HOST}`,
    });
  });

  it('proceeds once the holder is done', () => {
    const holders = exclusiveHolders([at('HOT-1', 'Done'), at('HOT-2', 'Waiting for RMA')], workflow);
    expect(plan({ key: 'HOT-2' }, { holders })).toMatchObject({ kind: 'transition', to: 'Sync' });
  });

  it('two tickets passing the gate in the same batch: only the lowest key starts', () => {
    const batch = [at('HOT-2', 'Waiting for RMA'), at('HOT-1', 'Waiting for RMA')];
    const holders = exclusiveHolders(batch, workflow);
    const decisions = batch.map((t) => plan({ key: t.key }, { holders }));
    expect(decisions.map((d) => d.kind)).toEqual(['hold', 'transition']);
  });

  it('a ticket of another host is not held', () => {
    const holders = exclusiveHolders([at('HOT-1', 'Sync', 'other-1.dev2.internal')], workflow);
    expect(plan({ key: 'HOT-2' }, { holders })).toMatchObject({ kind: 'transition' });
  });

  it('with on_conflict: fail, the second ticket goes to the failure status naming the first', () => {
    const failing = WorkflowSchema.parse({
      ...workflowDefinition,
      exclusive: { inputs: ['host'], on_conflict: 'fail' },
    });
    const holders = exclusiveHolders([at('HOT-1', 'Sync'), at('HOT-2', 'Waiting for RMA')], failing);
    expect(plan({ key: 'HOT-2' }, { holders, workflow: failing })).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: `${HOST} is being worked on by HOT-1`,
    });
  });

  it('an unrepaired RMA is waited for first: no comment about the holder yet', () => {
    const holders = exclusiveHolders([at('HOT-1', 'Sync'), at('HOT-2', 'Waiting for RMA')], workflow);
    const links = [{ relation: 'is blocked by', key: 'RMA-2', status: 'Open', statusCategory: 'new' }];
    expect(plan({ key: 'HOT-2', links }, { holders })).toMatchObject({
      kind: 'nothing',
      reason: 'waiting for RMA-2 (Open)',
    });
  });
});

describe('approval before destructive steps', () => {
  const inSync = (bookkeeping?: Ticket['bookkeeping']) => plan({ status: 'Sync', bookkeeping });

  it('a step marked approve posts its exact plan first and moves to the approval status', () => {
    const decision = inSync();
    expect(decision).toMatchObject({
      kind: 'requestApproval',
      to: 'Awaiting Approval',
      approved: 'Approved',
      step: { name: 'sync', next: 'Enable Alerting' },
      plan: [
        'on runbot@manager-0.dev2.internal:22',
        '$ sudo -n /usr/sbin/storage-sync --node container-101-08',
      ],
    });
    if (decision.kind !== 'requestApproval') throw new Error('expected requestApproval');
    expect(decision.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('waits in the approval status for a person', () => {
    const bookkeeping = {
      status: 'Awaiting Approval',
      visit: 2,
      enteredAt: NOW.toISOString(),
      awaiting: { step: 'sync', status: 'Sync', hash: 'h' },
    };
    expect(plan({ status: 'Awaiting Approval', bookkeeping })).toEqual({
      kind: 'nothing',
      reason: 'waiting for a person to approve sync (move to Approved)',
    });
  });

  it("a person's move to Approved takes the approved plan back to the step, its hash recorded", () => {
    const bookkeeping = {
      status: 'Awaiting Approval',
      visit: 2,
      enteredAt: NOW.toISOString(),
      awaiting: { step: 'sync', status: 'Sync', hash: 'f'.repeat(64) },
    };
    expect(plan({ status: 'Approved', bookkeeping })).toMatchObject({
      kind: 'transition',
      to: 'Sync',
      approved: { step: 'sync', hash: 'f'.repeat(64) },
    });
  });

  it('runs the step when the plan is the one approved', () => {
    const request = inSync();
    if (request.kind !== 'requestApproval') throw new Error('expected requestApproval');
    const bookkeeping = {
      status: 'Sync',
      visit: 4,
      enteredAt: NOW.toISOString(),
      approved: { step: 'sync', hash: request.hash },
    };
    const decision = inSync(bookkeeping);
    expect(decision).toMatchObject({ kind: 'runStep', step: { name: 'sync' } });
    if (decision.kind !== 'runStep') throw new Error('expected runStep');
    expect(planHash(decision)).toBe(request.hash);
  });

  it('a plan that changed after approval (another command) is put up for approval again', () => {
    const request = inSync();
    if (request.kind !== 'requestApproval') throw new Error('expected requestApproval');
    const approved = { step: 'sync', hash: request.hash };
    const bookkeeping = { status: 'Sync', visit: 4, enteredAt: NOW.toISOString(), approved };
    const changed = RunbookSchema.parse({
      ...runbook,
      steps: {
        ...runbook.steps,
        sync: {
          ...runbook.steps.sync,
          commands: ['sudo -n /usr/sbin/storage-sync --force --node {{ host.short }}'],
        },
      },
    });
    const decision = planTicket({
      ticket: ticket({ status: 'Sync', bookkeeping }),
      workflow,
      runbook: {
        runbook: changed,
        file: 'runbooks/safety.yaml',
        version: 'def456',
        inputPatterns: compileInputPatterns(changed),
      },
      inventory,
      now: NOW,
    });
    expect(decision).toMatchObject({ kind: 'requestApproval' });
    if (decision.kind !== 'requestApproval') throw new Error('expected requestApproval');
    expect(decision.hash).not.toBe(request.hash);
  });

  it('Approved with no plan waiting goes to a person', () => {
    expect(plan({ status: 'Approved' })).toMatchObject({
      kind: 'escalate',
      title: 'Approved, but no plan waits for approval',
    });
  });
});

describe('manual steps routed', () => {
  it('assigns the account from the definition and sets the due date from when the status was entered', () => {
    const bookkeeping = { status: 'Enable Alerting', visit: 3, enteredAt: '2026-11-23T20:00:00.000Z' };
    expect(plan({ status: 'Enable Alerting', bookkeeping })).toMatchObject({
      kind: 'postInstructions',
      assignee: '712020:abc',
      dueDate: '2026-11-25',
    });
  });

  it('assigns the first user of a ticket field (request participants)', () => {
    const people = { customfield_10070: ['712020:first', '712020:second'] };
    expect(plan({ status: 'Check', people })).toMatchObject({
      kind: 'postInstructions',
      assignee: '712020:first',
    });
  });

  it('a field that names nobody leaves the ticket unassigned and says so', () => {
    const decision = plan({ status: 'Check', people: { customfield_10070: [] } });
    expect(decision).toMatchObject({
      kind: 'postInstructions',
      unassigned: 'field customfield_10070 names nobody, so the ticket was not assigned',
    });
    expect(decision).not.toHaveProperty('assignee');
  });
});

describe('runbot status: a plan waiting for approval', () => {
  it('lists the ticket as waiting for a person, with the step', () => {
    const bookkeeping = {
      status: 'Awaiting Approval',
      visit: 2,
      enteredAt: NOW.toISOString(),
      awaiting: { step: 'sync', status: 'Sync', hash: 'h' },
    };
    const table = statusTable(
      workflow,
      {
        runbooks: new Map([
          [
            'safety',
            {
              runbook,
              file: 'runbooks/safety.yaml',
              version: 'abc123',
              inputPatterns: compileInputPatterns(runbook),
            },
          ],
        ]),
      },
      [{ key: 'HOT-7', status: 'Awaiting Approval', bookkeeping }],
      NOW,
    );
    expect(table.waitingForPeople).toEqual(['HOT-7 sync (approval)']);
  });
});
