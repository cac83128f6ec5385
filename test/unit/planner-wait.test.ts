// Wait steps keep their clock in Jira: the start recorded in the ticket's bookkeeping decides the
// deadline, so a planner in a freshly restarted service (no memory at all) reaches the same answer.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { planTicket, type Bookkeeping, type Decision } from '../../src/planner/index.js';
import { REPO_ROOT } from '../support/definitions.js';
import { restoreTicket } from '../support/tickets.js';

let definitions: Definitions;
beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

const STARTED = '2026-11-23T00:00:00.000Z';
const hoursAfterStart = (hours: number) => new Date(Date.parse(STARTED) + hours * 3600_000);

function plan(bookkeeping: Bookkeeping | undefined, now: Date): Decision {
  const workflow = definitions.workflows.get('rma-restore')!;
  return planTicket({
    ticket: restoreTicket({ status: 'Memcheck Running', links: [], bookkeeping }),
    workflow,
    runbook: definitions.runbooks.get(workflow.runbook)!,
    inventory: definitions.inventory,
    now,
  });
}

describe('planner: memcheck wait step clock', () => {
  // The visit was entered long after the memtest started (say a person moved the ticket back):
  // only startedAt, as Jira holds it, counts.
  const recorded: Bookkeeping = {
    status: 'Memcheck Running',
    visit: 3,
    enteredAt: '2026-11-23T10:00:00.000Z',
    startedAt: STARTED,
  };

  it('keeps checking before the 12 h timeout, with the deadline counted from the recorded start', () => {
    expect(plan(recorded, hoursAfterStart(11.5))).toMatchObject({
      kind: 'checkStep',
      startedAt: STARTED,
      deadline: '2026-11-23T12:00:00.000Z',
      round: 69,
      nextRoundAt: '2026-11-23T11:40:00.000Z',
    });
  });

  it('makes its last check 12 h after the recorded start, whatever the process remembers', () => {
    expect(plan(recorded, hoursAfterStart(12.1))).toMatchObject({ kind: 'checkStep', final: true });
  });

  it('counts from the recorded entry into the status when no check has run yet', () => {
    const entered: Bookkeeping = { status: 'Memcheck Running', visit: 3, enteredAt: STARTED };
    expect(plan(entered, hoursAfterStart(12.1))).toMatchObject({ kind: 'checkStep', final: true });
  });
});
