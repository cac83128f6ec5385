// The worker's reading of holds: which jobs go back to their queue (and for how long) instead of
// ending as stale, so a held visit keeps its job and runs when the hold ends.
import { describe, expect, it } from 'vitest';
import { InventorySchema } from '../../src/definitions/index.js';
import type { Hold, OpenBreakers } from '../../src/planner/index.js';
import type { StepJob } from '../../src/queue/index.js';
import { heldJob } from '../../src/runner/holds.js';

const inventory = InventorySchema.parse({
  sites: {
    dev2: {
      hosts: '\\.dev2\\.internal$',
      manager: 'manager-0.dev2.internal',
      ssh: { user: 'runbot' },
      windows: [{ days: 'daily', from: '09:00', to: '17:00', tz: 'UTC' }],
    },
  },
});
const OPEN: OpenBreakers = { 'dev2/sync': { failures: 3, window: 5, since: 'x', tickets: [] } };
const job = (kind: StepJob['kind'], step?: string): StepJob => ({
  key: 'HOT-7',
  workflow: 'rma-restore',
  status: 'Sync',
  visit: 2,
  kind,
  site: 'dev2',
  ...(step ? { step } : {}),
});
const NOON = new Date('2026-11-23T12:00:00Z');
const hold: Hold = { kind: 'breaker', site: 'dev2', step: 'sync', reason: 'breaker open for dev2/sync' };

describe('worker: held jobs', () => {
  it('defers a step job of an open breaker before the ticket is read, at the usual pace', () => {
    const deferred = heldJob(job('runStep', 'sync'), undefined, inventory, OPEN, NOON);
    expect(deferred?.kind).toBe('deferred');
    expect(deferred?.reason).toBe('breaker open for dev2/sync: 3 of the last 5 runs failed');
    expect(deferred?.delayMs).toBeUndefined();
    expect(heldJob(job('runStep', 'rebalance'), undefined, inventory, OPEN, NOON)).toBeUndefined();
  });

  it('defers a step job outside its window until the window opens, looking again within 5 min', () => {
    const evening = new Date('2026-11-23T18:00:00Z');
    expect(heldJob(job('runStep', 'sync'), undefined, inventory, {}, evening)?.delayMs).toBe(300_000);
    const justBefore = new Date('2026-11-24T08:59:30Z');
    expect(heldJob(job('runStep', 'sync'), undefined, inventory, {}, justBefore)?.delayMs).toBe(30_000);
  });

  it('defers a step job whose fresh plan holds it, also when the plan first tells the ticket', () => {
    const nothing = { kind: 'nothing' as const, reason: hold.reason, hold };
    expect(heldJob(job('runStep', 'sync'), nothing, inventory, OPEN, NOON)?.reason).toBe(hold.reason);
    expect(heldJob(job('postInstructions'), nothing, inventory, OPEN, NOON)?.reason).toBe(hold.reason);
    const visit = {
      key: 'HOT-7',
      workflow: 'w',
      status: 'Sync',
      isNew: false,
      bookkeeping: { status: 'Sync', visit: 2, enteredAt: 'x' },
    };
    const step = { name: 'sync', runbook: 'r', runbookVersion: 'v', next: 'N' };
    const note = { kind: 'noteHold' as const, visit, step, site: 'dev2', hold, tickets: [] };
    expect(heldJob(job('runStep', 'sync'), note, inventory, OPEN, NOON)?.reason).toBe(hold.reason);
  });

  it('lets other jobs be: checks, gate moves, and the comment job itself (stale when said)', () => {
    const nothing = { kind: 'nothing' as const, reason: hold.reason, hold };
    expect(heldJob(job('checkStep'), undefined, inventory, OPEN, NOON)).toBeUndefined();
    expect(heldJob(job('noteHold'), nothing, inventory, OPEN, NOON)).toBeUndefined();
    expect(
      heldJob(job('transition'), undefined, inventory, OPEN, new Date('2026-11-23T18:00:00Z')),
    ).toBeUndefined();
  });
});
