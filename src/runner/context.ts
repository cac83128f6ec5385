// A workflow as the poller and the runner both read it: its runbook and the ticket fields to read
// (`WorkflowContext`, built once from the loaded definitions), and the planner's input for one of its
// tickets (`planInputFor`). The poller plans from the search, the runner plans again from a fresh
// read; both build the planner's input here, so the two plans cannot differ in what they are given.
import type { Definitions, LoadedRunbook, Workflow } from '../definitions/index.js';
import type { TicketShape } from '../jira/port.js';
import type { InputHolders, OpenBreakers, PlanInput, Ticket } from '../planner/index.js';

export interface WorkflowContext {
  workflow: Workflow;
  runbook: LoadedRunbook;
  shape: TicketShape;
}

export function workflowContexts(definitions: Definitions): Map<string, WorkflowContext> {
  const contexts = new Map<string, WorkflowContext>();
  for (const workflow of definitions.workflows.values()) {
    const runbook = definitions.runbooks.get(workflow.runbook);
    // loadDefinitions refuses a workflow whose runbook is missing.
    if (!runbook) continue;
    const userFields = routedUserFields(runbook.runbook);
    contexts.set(workflow.name, {
      workflow,
      runbook,
      shape: { inputFields: workflow.fields, ...(userFields.length > 0 ? { userFields } : {}) },
    });
  }
  return contexts;
}

/** The ticket fields manual steps assign from (`assign.field`). */
function routedUserFields(runbook: LoadedRunbook['runbook']): string[] {
  const fields = Object.values(runbook.steps).flatMap((step) =>
    step.kind === 'manual' && step.assign && 'field' in step.assign ? [step.assign.field] : [],
  );
  return [...new Set(fields)];
}

/** The planner's input for a ticket of this workflow, as the poller and the worker both build it. */
export function planInputFor(
  context: WorkflowContext,
  ticket: Ticket,
  world: { definitions: Definitions; now: () => Date; timeScale: number },
  /** What the edges read besides the ticket: open breakers (Redis), exclusive holders (the search),
   * Jira's display names of fields (read once per process). */
  seen: { openBreakers?: OpenBreakers; holders?: InputHolders; fieldNames?: Record<string, string> } = {},
): PlanInput {
  const { openBreakers, holders, fieldNames } = seen;
  return {
    ...(holders ? { holders } : {}),
    ...(fieldNames ? { fieldNames } : {}),
    ticket,
    workflow: context.workflow,
    runbook: context.runbook,
    inventory: world.definitions.inventory,
    now: world.now(),
    timeScale: world.timeScale,
    ...(openBreakers ? { openBreakers } : {}),
  };
}
