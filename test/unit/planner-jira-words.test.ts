// The planner and what Jira says beyond the ticket's fields: the screens of the transitions it can
// take (a required field the workflow gives no value for refuses the move before anything runs), the
// display names of fields, and look-alike characters in a ticket's values.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Definitions, type Workflow } from '../../src/definitions/index.js';
import {
  planTicket,
  type Decision,
  type Ticket,
  type TicketTransition,
  type TransitionField,
} from '../../src/planner/index.js';
import { nonAsciiCharacters } from '../../src/planner/lookalikes.js';
import { REPO_ROOT } from '../support/definitions.js';
import { restoreTicket } from '../support/tickets.js';

let definitions: Definitions;
beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

const NOW = new Date('2026-11-23T12:00:00Z');

const resolution = (overrides: Partial<TransitionField> = {}): TransitionField => ({
  key: 'resolution',
  name: 'Resolution',
  required: true,
  hasDefaultValue: false,
  allowedValues: ['Done', "Won't Do"],
  ...overrides,
});

/** Rebalance's transitions: on to Done (its screen as given) and to the human queue. */
function rebalanceTransitions(
  done: TransitionField[],
  actionable: TransitionField[] = [],
): TicketTransition[] {
  return [
    { to: 'Done', fields: done },
    { to: 'Actionable', fields: actionable },
  ];
}

function plan(
  overrides: Partial<Ticket> = {},
  options: { workflow?: Partial<Workflow>; fieldNames?: Record<string, string> } = {},
): Decision {
  const shipped = definitions.workflows.get('rma-restore')!;
  const workflow = { ...shipped, ...options.workflow };
  return planTicket({
    ticket: restoreTicket({ status: 'Rebalance', links: [], ...overrides }),
    workflow,
    runbook: definitions.runbooks.get(workflow.runbook)!,
    inventory: definitions.inventory,
    now: NOW,
    ...(options.fieldNames ? { fieldNames: options.fieldNames } : {}),
  });
}

describe('planner: transition screens', () => {
  it('runs the step when the shipped workflow gives the Resolution Done requires', () => {
    expect(plan({ transitions: rebalanceTransitions([resolution()]) })).toMatchObject({ kind: 'runStep' });
  });

  it('refuses before running when the workflow gives no value: the ticket goes to Actionable, naming the field', () => {
    const decision = plan(
      { transitions: rebalanceTransitions([resolution()]) },
      { workflow: { transitions: undefined } },
    );
    expect(decision).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: 'Jira requires Resolution to move this ticket',
      refusedMove: true,
    });
    if (decision.kind !== 'escalate') throw new Error('unreachable');
    expect(decision.reason).toContain(
      "The transition from Rebalance to Done has a screen that requires Resolution (resolution); allowed: Done, Won't Do",
    );
    expect(decision.reason).toContain('The bot ran nothing');
    expect(decision.nextStep).toContain('transitions (Done: { fields: { resolution: … } })');
  });

  it('runs the step when the required field has a default in Jira', () => {
    const decision = plan(
      { transitions: rebalanceTransitions([resolution({ hasDefaultValue: true })]) },
      { workflow: { transitions: undefined } },
    );
    expect(decision).toMatchObject({ kind: 'runStep' });
  });

  it('ignores optional screen fields', () => {
    const decision = plan(
      { transitions: rebalanceTransitions([resolution({ required: false })]) },
      { workflow: { transitions: undefined } },
    );
    expect(decision).toMatchObject({ kind: 'runStep' });
  });

  it('checks nothing on a search result (no transitions read)', () => {
    expect(plan({}, { workflow: { transitions: undefined } })).toMatchObject({ kind: 'runStep' });
  });

  it('stays with one Action Required comment when not even the failure status can be reached', () => {
    const transitions = rebalanceTransitions(
      [resolution()],
      [resolution({ key: 'customfield_10050', name: 'Root Cause' })],
    );
    const decision = plan({ transitions });
    expect(decision).toMatchObject({
      kind: 'postInstructions',
      purpose: 'transition-fields',
      title: 'Jira requires Root Cause to move this ticket',
      refusedMove: true,
    });
    if (decision.kind !== 'postInstructions') throw new Error('unreachable');
    expect(decision.blocks[0]?.text).toContain(
      'to Actionable has a screen that requires Root Cause (customfield_10050)',
    );
    // Posted once per visit: the recorded comment means waiting.
    const visit = { status: 'Rebalance', visit: 3, enteredAt: NOW.toISOString(), instructed: true };
    expect(plan({ transitions, bookkeeping: visit })).toMatchObject({ kind: 'nothing' });
  });

  it('checks the gate’s move and an escalation’s move too', () => {
    const gate = plan({
      status: 'Waiting for RMA',
      links: [{ relation: 'is blocked by', key: 'RMA-1', status: 'Done', statusCategory: 'done' }],
      transitions: [
        { to: 'Memcheck', fields: [resolution({ key: 'customfield_1', name: 'Approver' })] },
        { to: 'Actionable', fields: [] },
      ],
    });
    expect(gate).toMatchObject({ kind: 'escalate', title: 'Jira requires Approver to move this ticket' });
  });
});

describe('planner: field display names', () => {
  it('names the field by its Jira name, with its id once for the workflow', () => {
    const decision = plan({ inputs: { host: '' } }, { fieldNames: { customfield_10042: 'Service Hosts' } });
    expect(decision).toMatchObject({
      kind: 'escalate',
      title: 'Field Service Hosts is empty',
      reason:
        'The runbook needs "host" from field Service Hosts (customfield_10042), and the ticket has no value there.',
      nextStep: 'Fill in Service Hosts and move the ticket back to Rebalance.',
    });
  });

  it('falls back to the field id when Jira gave no names', () => {
    expect(plan({ inputs: { host: '' } })).toMatchObject({ title: 'Field customfield_10042 is empty' });
  });
});

describe('planner: look-alike characters', () => {
  it('says which character is not ASCII, where, and what it looks like', () => {
    const host = 'cоntainer-101-08.dev2.internal'; // the second letter is U+043E
    const decision = plan({ inputs: { host } }, { fieldNames: { customfield_10042: 'Service Hosts' } });
    expect(decision).toMatchObject({ kind: 'escalate', title: 'Field Service Hosts is not a valid host' });
    if (decision.kind !== 'escalate') throw new Error('unreachable');
    expect(decision.reason).toContain(
      'It contains a character that is not plain ASCII: U+043E CYRILLIC SMALL LETTER O at position 2, which looks like "o".',
    );
  });

  it('names invisible characters and counts positions in characters, not UTF-16 units', () => {
    expect(nonAsciiCharacters('a\u{1F600}b\u200bc')).toEqual([
      { character: '\u{1F600}', position: 2, codePoint: 'U+1F600', name: undefined, looksLike: undefined },
      {
        character: '\u200b',
        position: 4,
        codePoint: 'U+200B',
        name: 'ZERO WIDTH SPACE',
        looksLike: 'nothing',
      },
    ]);
  });

  it('says nothing extra for a plain ASCII value', () => {
    const decision = plan({ inputs: { host: 'container 101' } });
    if (decision.kind !== 'escalate') throw new Error('expected an escalation');
    expect(decision.reason).not.toContain('not plain ASCII');
  });
});
