// The planner's holds: an open failure-rate breaker of the site and step, a freeze, or a closed
// maintenance window keep a new step from starting; the ticket waits in its status, and is told
// once per visit about a breaker. Checks of a running wait step, gate moves and escalations go on.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InventorySchema,
  loadDefinitions,
  type Definitions,
  type Inventory,
} from '../../src/definitions/index.js';
import {
  breakerLimits,
  isActionable,
  planTicket,
  type Bookkeeping,
  type Decision,
  type OpenBreakers,
} from '../../src/planner/index.js';
import { jobFor, jobId } from '../../src/queue/index.js';
import { REPO_ROOT } from '../support/definitions.js';
import { restoreTicket } from '../support/tickets.js';

let definitions: Definitions;
beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

const DEV2 = { hosts: '\\.dev2\\.internal$', manager: 'manager-0.dev2.internal', ssh: { user: 'runbot' } };
const inventory = (dev2: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
  InventorySchema.parse({
    ...top,
    sites: { dev2: { ...DEV2, ...dev2 }, sm1: { ...DEV2, hosts: '\\.sm1\\.' } },
  });
const OFFICE = { windows: [{ days: 'mon-fri', from: '09:00', to: '17:00', tz: 'Europe/Berlin' }] };
const OPEN_SYNC: OpenBreakers = {
  'dev2/sync': {
    failures: 3,
    window: 5,
    since: '2026-11-23T11:00:00.000Z',
    tickets: ['HOT-1', 'HOT-2', 'HOT-3'],
  },
};
/** Monday 13:00 in Berlin, inside office hours; 20:00, outside. */
const MONDAY_NOON = new Date('2026-11-23T12:00:00Z');
const MONDAY_EVENING = new Date('2026-11-23T19:00:00Z');

function plan(
  status: string,
  options: { inventory?: Inventory; open?: OpenBreakers; now?: Date; bookkeeping?: Bookkeeping } = {},
): Decision {
  const workflow = definitions.workflows.get('rma-restore')!;
  const ticket = restoreTicket({ status, bookkeeping: options.bookkeeping });
  return planTicket({
    ticket,
    workflow,
    runbook: definitions.runbooks.get(workflow.runbook)!,
    inventory: options.inventory ?? inventory(),
    now: options.now ?? MONDAY_NOON,
    ...(options.open ? { openBreakers: options.open } : {}),
  });
}

describe('planner: failure-rate breaker', () => {
  it('tells the ticket once that its step waits for the open breaker of its site and step', () => {
    const decision = plan('Sync', { open: OPEN_SYNC });
    expect(decision).toMatchObject({
      kind: 'noteHold',
      site: 'dev2',
      step: { name: 'sync', next: 'Blacklist Removal' },
      hold: {
        kind: 'breaker',
        site: 'dev2',
        step: 'sync',
        reason: 'breaker open for dev2/sync: 3 of the last 5 runs failed',
      },
      tickets: ['HOT-1', 'HOT-2', 'HOT-3'],
    });
    // Its own job, so a runStep job of the same visit is not mistaken for it.
    expect(isActionable(decision) && jobId(jobFor(decision))).toBe('HOT-7.v1.noteHold');
  });

  it('then waits in the status, saying why, for as long as the breaker is open', () => {
    const bookkeeping = {
      status: 'Sync',
      visit: 4,
      enteredAt: '2026-11-23T10:00:00Z',
      held: 'breaker dev2/sync',
    };
    expect(plan('Sync', { open: OPEN_SYNC, bookkeeping })).toEqual({
      kind: 'nothing',
      reason: 'breaker open for dev2/sync: 3 of the last 5 runs failed',
      hold: {
        kind: 'breaker',
        site: 'dev2',
        step: 'sync',
        reason: 'breaker open for dev2/sync: 3 of the last 5 runs failed',
      },
    });
  });

  it('runs the step once the breaker is closed again, in the same visit', () => {
    const bookkeeping = {
      status: 'Sync',
      visit: 4,
      enteredAt: '2026-11-23T10:00:00Z',
      held: 'breaker dev2/sync',
    };
    expect(plan('Sync', { bookkeeping })).toMatchObject({ kind: 'runStep', step: { name: 'sync' } });
  });

  it('holds only that step at that site', () => {
    expect(plan('Second Sync', { open: OPEN_SYNC })).toMatchObject({
      kind: 'runStep',
      step: { name: 'second-sync' },
    });
    expect(plan('Sync', { open: { 'sm1/sync': OPEN_SYNC['dev2/sync']! } })).toMatchObject({
      kind: 'runStep',
    });
  });

  it('does not hold a manual step or the check of a running wait step', () => {
    const open = {
      'dev2/enable-alerting': OPEN_SYNC['dev2/sync']!,
      'dev2/memcheck-wait': OPEN_SYNC['dev2/sync']!,
    };
    expect(plan('Enable Alerting', { open }).kind).toBe('postInstructions');
    expect(plan('Memcheck Running', { open }).kind).toBe('checkStep');
  });

  it('lets a step already running finish: it is not held, only new starts are', () => {
    const since = new Date(MONDAY_NOON.getTime() - 10_000).toISOString();
    const bookkeeping = { status: 'Sync', visit: 2, enteredAt: since, running: { step: 'sync', since } };
    expect(plan('Sync', { open: OPEN_SYNC, bookkeeping })).toEqual({
      kind: 'nothing',
      reason: `sync running since ${since}`,
      running: expect.objectContaining({ step: 'sync', visit: 2 }) as unknown,
    });
  });
});

describe('planner: breaker limits from the inventory', () => {
  it('3 of 5 unless told otherwise; the top level, the site and the step override in turn', () => {
    expect(breakerLimits(inventory(), 'dev2', 'sync')).toEqual({ failures: 3, window: 5 });
    const top = { breaker: { failures: 2, window: 10 } };
    expect(breakerLimits(inventory({}, top), 'dev2', 'sync')).toEqual({ failures: 2, window: 10 });
    expect(breakerLimits(inventory({ breaker: { window: 4 } }, top), 'dev2', 'sync')).toEqual({
      failures: 2,
      window: 4,
    });
    const perStep = { breaker: { per_step: { sync: { failures: 1, window: 1 }, rebalance: 'off' } } };
    expect(breakerLimits(inventory(perStep, top), 'dev2', 'sync')).toEqual({ failures: 1, window: 1 });
    expect(breakerLimits(inventory(perStep, top), 'dev2', 'rebalance')).toBeUndefined();
    expect(breakerLimits(inventory({ breaker: 'off' }), 'dev2', 'sync')).toBeUndefined();
    expect(breakerLimits(inventory({}, { breaker: 'off' }), 'dev2', 'sync')).toBeUndefined();
    expect(breakerLimits(inventory({}, { breaker: 'off' }), 'sm1', 'sync')).toBeUndefined();
  });

  it('refuses more failures than the window holds', () => {
    const parsed = InventorySchema.safeParse({ breaker: { failures: 6, window: 5 }, sites: {} });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toContain(
      'breaker.failures: failures must not be more than window',
    );
  });
});

describe('planner: maintenance windows and freezes', () => {
  it('starts a step inside the window', () => {
    expect(plan('Sync', { inventory: inventory(OFFICE), now: MONDAY_NOON }).kind).toBe('runStep');
  });

  it('waits outside the window, without a comment, saying until when', () => {
    expect(plan('Sync', { inventory: inventory(OFFICE), now: MONDAY_EVENING })).toEqual({
      kind: 'nothing',
      reason: 'outside maintenance window of dev2 until 09:00 Europe/Berlin',
      hold: {
        kind: 'window',
        site: 'dev2',
        step: 'sync',
        reason: 'outside maintenance window of dev2 until 09:00 Europe/Berlin',
        until: '2026-11-24T08:00:00.000Z',
      },
    });
  });

  it('holds the Action Required comment of a manual step too: a person would act on the site', () => {
    expect(plan('Enable Alerting', { inventory: inventory(OFFICE), now: MONDAY_EVENING })).toMatchObject({
      kind: 'nothing',
      hold: { kind: 'window', step: 'enable-alerting' },
    });
  });

  it('keeps checking a wait step already running, moves gate tickets and escalates bad ones', () => {
    const closed = { inventory: inventory(OFFICE), now: MONDAY_EVENING };
    expect(plan('Memcheck Running', closed).kind).toBe('checkStep');
    expect(plan('Waiting for RMA', closed)).toMatchObject({ kind: 'transition', to: 'Memcheck' });
  });

  it('waits during a freeze, and names it', () => {
    const frozen = inventory({
      freezes: [{ from: '2026-11-20T00:00Z', to: '2026-11-30T00:00Z', reason: 'datacenter move' }],
    });
    expect(plan('Rebalance', { inventory: frozen })).toMatchObject({
      kind: 'nothing',
      reason: 'dev2 frozen until 2026-11-30 00:00 UTC: datacenter move',
      hold: { kind: 'freeze', until: '2026-11-30T00:00:00.000Z' },
    });
    // Another site is not frozen.
    expect(plan('Rebalance', { inventory: inventory({}, {}) }).kind).toBe('runStep');
  });

  it('an open breaker is said first, a closed window after', () => {
    expect(plan('Sync', { inventory: inventory(OFFICE), now: MONDAY_EVENING, open: OPEN_SYNC }).kind).toBe(
      'noteHold',
    );
  });
});
