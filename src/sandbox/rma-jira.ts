// The Jira side of the demo and the end-to-end tests: projects and workflows shaped like the seed's
// service desk (one status per runbook step, a human "Actionable" queue), derived from a runbot
// workflow so the two cannot drift apart.
import type { Workflow } from '../definitions/index.js';
import type { SandboxProject, SandboxTransition, ScreenField } from './jira/index.js';

export const HOST_FIELD = { id: 'customfield_10042', name: 'Service Hosts' };

/** Jira's Resolution field on a transition screen: required, no default. */
const RESOLUTION_FIELD: ScreenField = {
  key: 'resolution',
  name: 'Resolution',
  required: true,
  schema: { type: 'resolution', system: 'resolution' },
  // The same screen as doctor's sites (src/sandbox/doctor-jira.ts, DONE_RESOLUTION).
  allowedValues: [{ id: '10000', name: 'Done' }],
};

/** Jira's workflow for a runbot workflow: each step's status moves on to its `next`, any active
 * status can go to the failure queue, and from there a person hands the ticket back to any step. */
export function restoreProject(workflow: Workflow): SandboxProject {
  const active = [...(workflow.gate ? [workflow.gate.status] : []), ...Object.keys(workflow.statuses)];
  const edges: [string, string][] = [
    ...(workflow.gate ? [[workflow.gate.status, workflow.gate.next] as [string, string]] : []),
    ...Object.entries(workflow.statuses).map(
      ([status, binding]) => [status, binding.next] as [string, string],
    ),
  ];
  const steps = Object.keys(workflow.statuses);
  const approval = workflow.approval;
  // Steps marked approve: the bot asks in approval.status, a person approves, the bot returns.
  const approvalTransitions: SandboxTransition[] = approval
    ? [
        { id: '81', name: 'Ask for approval', from: steps, to: approval.status },
        { id: '82', name: 'Approve', from: [approval.status], to: approval.approved },
        ...steps.map((to, index) => ({
          id: String(201 + index),
          name: `Run approved: ${to}`,
          from: [approval.approved],
          to,
        })),
      ]
    : [];
  const approvalStatuses = approval ? [approval.status, approval.approved] : [];
  const transitions: SandboxTransition[] = [
    ...edges.map(([from, to], index) => ({
      id: String(11 + index),
      name: `Go to ${to}`,
      from: [from],
      to,
      // As on most Jira sites, the move into the done status asks for a Resolution on its screen.
      ...(to === workflow.done ? { screen: [RESOLUTION_FIELD] } : {}),
    })),
    ...approvalTransitions,
    { id: '91', name: 'Needs a person', from: [...active, ...approvalStatuses], to: workflow.failure },
    ...[...active, workflow.done].map((to, index) => ({
      id: String(101 + index),
      name: `Hand back: ${to}`,
      from: [workflow.failure],
      to,
    })),
  ];
  const category = (status: string) =>
    status === workflow.done ? 'done' : status === active[0] ? 'new' : 'indeterminate';
  return {
    key: workflow.jira.project,
    name: 'Hardware Operations',
    issueTypes: [workflow.jira.issue_type],
    workflow: {
      initial: active[0] ?? workflow.failure,
      statuses: [...active, ...approvalStatuses, workflow.failure, workflow.done].map((name) => ({
        name,
        category: category(name),
      })),
      transitions,
    },
  };
}

/** The RMA project whose tickets gate the restores: Open → In Repair → Done. */
export const RMA_PROJECT: SandboxProject = {
  key: 'RMA',
  name: 'Hardware Repairs',
  issueTypes: ['RMA'],
  workflow: {
    initial: 'Open',
    statuses: [
      { name: 'Open', category: 'new' },
      { name: 'In Repair', category: 'indeterminate' },
      { name: 'Done', category: 'done' },
    ],
    transitions: [
      { id: '21', name: 'Start repair', from: ['Open'], to: 'In Repair' },
      { id: '31', name: 'Repaired', from: ['Open', 'In Repair'], to: 'Done' },
    ],
  },
};
