// The checks a schema cannot express: templates against a runbook's inputs, and the references
// between a workflow, its runbook and the other workflows. Each problem is placed at the YAML node
// that causes it, and every problem is reported, so an author fixes them in one pass.
// Runbook rules in checks-runbook.ts, workflow rules in checks-workflow.ts (the fleet-scale safety
// ones in checks-safety.ts).
export { anchorProblem, checkRunbook } from './checks-runbook.js';
export { checkWorkflow, checkWorkflowOverlap, jqlProblem } from './checks-workflow.js';
