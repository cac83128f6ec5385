// What the poller and the worker share: the loaded definitions and how to read tickets for a workflow.
import type { Definitions, LoadedRunbook, Workflow } from '../definitions/index.js';
import type { InputHolders, OpenBreakers, PlanInput, Ticket } from '../planner/index.js';
import type { TicketShape } from '../jira/port.js';

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

/** Statuses the bot acts on for a workflow: the gate, every status bound to a step, and the approval statuses. */
function ownedStatuses(workflow: Workflow): string[] {
  return [
    ...(workflow.gate ? [workflow.gate.status] : []),
    ...Object.keys(workflow.statuses),
    ...(workflow.approval ? [workflow.approval.status, workflow.approval.approved] : []),
  ];
}

/** The JQL for one workflow: its project and issue type, in a status the bot owns (and `narrower`). */
export function workflowJql(workflow: Workflow, narrower: string[] = []): string {
  const quoted = (value: string) => JSON.stringify(value);
  const clauses = [
    `project = ${quoted(workflow.jira.project)}`,
    `issuetype = ${quoted(workflow.jira.issue_type)}`,
    `status in (${ownedStatuses(workflow).map(quoted).join(', ')})`,
    ...(workflow.jira.jql ? [`(${workflow.jira.jql})`] : []),
    ...narrower,
  ];
  return `${clauses.join(' AND ')} ORDER BY key ASC`;
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
