// Workflow rules for the fleet-scale safety controls: steps marked approve need the workflow's
// approval statuses, and those are statuses of their own; exclusive inputs are runbook inputs and
// are held from the gate on, so the workflow needs a gate.
import type { DefinitionProblem } from './errors.js';
import type { Runbook, Workflow } from './schema.js';
import type { SourceFile } from './yaml-file.js';

export function checkSafety(source: SourceFile<Workflow>, runbook: Runbook): DefinitionProblem[] {
  const workflow = source.value;
  const where = (path: PropertyKey[], message: string): DefinitionProblem => ({
    file: source.file,
    ...source.locate(path),
    message,
  });
  const problems: DefinitionProblem[] = [];
  const bound = Object.entries(workflow.statuses);
  const approveSteps = bound
    .filter(([, binding]) => {
      const step = runbook.steps[binding.step];
      return step !== undefined && 'approve' in step && step.approve === true;
    })
    .map(([, binding]) => binding.step);
  if (approveSteps.length > 0 && !workflow.approval) {
    problems.push(
      where(
        ['runbook'],
        `runbook "${runbook.name}" has steps marked approve: true (${[...new Set(approveSteps)].join(', ')}): add approval: { status, approved } to the workflow`,
      ),
    );
  }
  if (workflow.approval) {
    const taken = new Map<string, string>([
      ...bound.map(([status]) => [status, 'a step status'] as [string, string]),
      ...(workflow.gate ? [[workflow.gate.status, 'the gate'] as [string, string]] : []),
      [workflow.failure, 'the failure status'],
      [workflow.done, 'the done status'],
    ]);
    for (const key of ['status', 'approved'] as const) {
      const status = workflow.approval[key];
      const other = taken.get(status);
      if (other)
        problems.push(
          where(
            ['approval', key],
            `approval.${key} "${status}" is also ${other}: it must be a status of its own`,
          ),
        );
    }
    if (workflow.approval.status === workflow.approval.approved)
      problems.push(where(['approval', 'approved'], 'approval.status and approval.approved must differ'));
  }
  for (const [index, input] of (workflow.exclusive?.inputs ?? []).entries()) {
    if (!(input in runbook.inputs))
      problems.push(
        where(
          ['exclusive', 'inputs', index],
          `exclusive input "${input}" is not an input of runbook "${runbook.name}" (its inputs: ${Object.keys(runbook.inputs).join(', ')})`,
        ),
      );
  }
  if (workflow.exclusive && !workflow.gate) {
    problems.push(
      where(['exclusive'], 'exclusive inputs are held from the gate on: add a gate to the workflow'),
    );
  }
  return problems;
}
