// What the poller and the worker share: the loaded definitions and how to read tickets for a workflow.
import type { Definitions, LoadedRunbook, Workflow } from '../definitions/index.js';
import type { PlanInput, Ticket } from '../planner/index.js';
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
    contexts.set(workflow.name, { workflow, runbook, shape: { inputFields: workflow.fields } });
  }
  return contexts;
}

/** Statuses the bot acts on for a workflow: the gate and every status bound to a step. */
export function ownedStatuses(workflow: Workflow): string[] {
  return [...(workflow.gate ? [workflow.gate.status] : []), ...Object.keys(workflow.statuses)];
}

/** The JQL for one workflow: its project and issue type, in a status the bot owns. */
export function workflowJql(workflow: Workflow): string {
  const quoted = (value: string) => JSON.stringify(value);
  const clauses = [
    `project = ${quoted(workflow.jira.project)}`,
    `issuetype = ${quoted(workflow.jira.issue_type)}`,
    `status in (${ownedStatuses(workflow).map(quoted).join(', ')})`,
    ...(workflow.jira.jql ? [`(${workflow.jira.jql})`] : []),
  ];
  return `${clauses.join(' AND ')} ORDER BY key ASC`;
}

/** The planner's input for a ticket of this workflow, as the poller and the worker both build it. */
export function planInputFor(
  context: WorkflowContext,
  ticket: Ticket,
  world: { definitions: Definitions; now: () => Date; timeScale: number },
  fieldNames?: Record<string, string>,
): PlanInput {
  return {
    ...(fieldNames ? { fieldNames } : {}),
    ticket,
    workflow: context.workflow,
    runbook: context.runbook,
    inventory: world.definitions.inventory,
    now: world.now(),
    timeScale: world.timeScale,
  };
}
