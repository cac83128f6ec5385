// The restore ticket the planner's and the runner's unit tests plan with the shipped definitions.
import type { Ticket } from '../../src/planner/index.js';

/**
 * HOT-7, an RMA Restore of container-101-08.dev2.internal in Sync, blocked by RMA-1893 (done), with no
 * bookkeeping yet; changed by `overrides`.
 */
export function restoreTicket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    key: 'HOT-7',
    status: 'Sync',
    project: 'HOT',
    issueType: 'RMA Restore',
    labels: [],
    inputs: { host: 'container-101-08.dev2.internal' },
    links: [{ relation: 'is blocked by', key: 'RMA-1893', status: 'Done', statusCategory: 'done' }],
    bookkeeping: undefined,
    ...overrides,
  };
}
