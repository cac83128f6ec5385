// What the planner's BMC tests (planner-ipmi, planner-redfish) share: one ticket (HOT-9, host
// db-3.dev2.internal, in Power Cycle), the workflow around a runbook's steps, an inventory whose
// dev2 site has the BMC access under test and whose sm1 site has none (the manual fallback), and
// plan() over them. Each test file keeps its own steps, statuses and BMC access, and its assertions.
import {
  compileInputPatterns,
  InventorySchema,
  RunbookSchema,
  WorkflowSchema,
  type Inventory,
  type LoadedRunbook,
  type Runbook,
  type Workflow,
} from '../../src/definitions/index.js';
import { planTicket, type Decision, type Ticket } from '../../src/planner/index.js';

export const NOW = new Date('2026-11-23T12:00:00Z');
/** A host of site sm1, where the bot has no BMC access. */
export const NO_BMC_HOST = 'container-107-05.sm1.internal';

/** The steps (one input, `host`) as a runbook named bmc. */
export const bmcRunbook = (steps: Record<string, unknown>): Runbook =>
  RunbookSchema.parse({ name: 'bmc', inputs: { host: { pattern: '^[a-z0-9.-]+$' } }, steps });

/** The workflow of runbook bmc with these statuses; failures go to Actionable. */
export function bmcWorkflow(statuses: Record<string, { step: string; next: string }>): Workflow {
  return WorkflowSchema.parse({
    name: 'bmc',
    runbook: 'bmc',
    jira: { project: 'HOT', issue_type: 'RMA Restore' },
    fields: { host: 'customfield_10042' },
    statuses,
    failure: 'Actionable',
    done: 'Done',
  });
}

/**
 * Sites by name, each given its BMC access (`{ ipmi: … }` or `{ redfish: … }`), and site sm1 without
 * any. Site NAME holds the hosts ending in `.NAME.internal`.
 */
export function bmcInventory(access: Record<string, Record<string, unknown>>): Inventory {
  const site = (name: string) => ({
    hosts: `\\.${name}\\.internal$`,
    manager: `manager-0.${name}.internal`,
    ssh: { user: 'runbot' },
  });
  const sites = Object.fromEntries(
    Object.entries(access).map(([name, bmc]) => [name, { ...site(name), ...bmc }]),
  );
  return InventorySchema.parse({ sites: { ...sites, sm1: site('sm1') } });
}

/** HOT-9 (db-3.dev2.internal, in Power Cycle, no bookkeeping yet), changed by `overrides`. */
export function bmcTicket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    key: 'HOT-9',
    status: 'Power Cycle',
    project: 'HOT',
    issueType: 'RMA Restore',
    labels: [],
    inputs: { host: 'db-3.dev2.internal' },
    links: [],
    bookkeeping: undefined,
    ...overrides,
  };
}

/** The runbook as loadDefinitions gives it (file bmc.yaml, its input patterns compiled). */
export const loadedBmcRunbook = (runbook: Runbook): LoadedRunbook => ({
  runbook,
  file: 'bmc.yaml',
  version: 'abc123def456',
  inputPatterns: compileInputPatterns(runbook),
});

/** plan(overrides): the decision for bmcTicket(overrides). */
export function bmcPlanner(definitions: { runbook: Runbook; workflow: Workflow; inventory: Inventory }) {
  const { runbook, workflow, inventory } = definitions;
  return (overrides: Partial<Ticket>, now = NOW): Decision =>
    planTicket({
      ticket: bmcTicket(overrides),
      workflow,
      runbook: loadedBmcRunbook(runbook),
      inventory,
      now,
    });
}

/** A ticket in `status` whose step `step` began `secondsAgo` seconds ago and did not finish (visit 4). */
export function running(status: string, step: string, secondsAgo: number): Partial<Ticket> {
  const since = new Date(NOW.getTime() - secondsAgo * 1000).toISOString();
  return { status, bookkeeping: { status, visit: 4, enteredAt: since, running: { step, since } } };
}
