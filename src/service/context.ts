// The search the poller (and the exclusive holders' search, holders.ts) runs for one workflow: its
// JQL. What the poller and the runner share (the workflow's context, the planner's input) is in
// runner/context.ts.
import type { Workflow } from '../definitions/index.js';
import type { WorkflowContext } from '../runner/context.js';

export type { WorkflowContext };

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
