// The workflow checks a schema cannot express: its runbook and steps exist, `next` targets are known
// statuses, fields feed the inputs, every status is reachable and every loop passes a person, an
// extra JQL filter stays inside the bot's parentheses, and no two workflows cover the same tickets.
import { checkSafety } from './checks-safety.js';
import type { DefinitionProblem } from './errors.js';
import type { Runbook, Workflow } from './schema.js';
import { problemAt, type SourceFile } from './yaml-file.js';

/** Workflow rules: its runbook, steps, `next` targets, fields, reachability and loops. */
export function checkWorkflow(
  source: SourceFile<Workflow>,
  runbooks: ReadonlyMap<string, { runbook: Runbook }>,
): DefinitionProblem[] {
  const workflow = source.value;
  const where = problemAt(source);
  const problems: DefinitionProblem[] = [...checkStatusNames(source)];
  const runbook = runbooks.get(workflow.runbook)?.runbook;
  if (!runbook) {
    const names = [...runbooks.keys()].join(', ') || 'none';
    problems.push(
      where(source.locate(['runbook']), `runbook "${workflow.runbook}" not found (loaded: ${names})`),
    );
    return problems;
  }
  for (const [status, binding] of Object.entries(workflow.statuses)) {
    if (!(binding.step in runbook.steps)) {
      const steps = Object.keys(runbook.steps).join(', ');
      problems.push(
        where(
          source.locate(['statuses', status, 'step']),
          `step "${binding.step}" is not in runbook "${runbook.name}" (its steps: ${steps})`,
        ),
      );
    }
  }
  problems.push(
    ...checkContradictions(source),
    ...checkFields(source, runbook),
    ...checkSafety(source, runbook),
  );
  const jqlReason = workflow.jira.jql === undefined ? undefined : jqlProblem(workflow.jira.jql);
  if (jqlReason) problems.push(where(source.locate(['jira', 'jql']), `jira.jql: ${jqlReason}`));
  problems.push(...checkReachability(source), ...checkLoops(source, runbook));
  return problems;
}

/**
 * Why an extra JQL filter could reach beyond the workflow's tickets, if it could: it is ANDed inside
 * the bot's own parentheses, so unbalanced parentheses or an unclosed quote would let it close them
 * (`labels = ok) OR (project = PROD` searches every PROD ticket).
 */
export function jqlProblem(jql: string): string | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = 0; index < jql.length; index += 1) {
    const char = jql[index];
    if (quote) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '(') depth += 1;
    else if (char === ')' && --depth < 0)
      return `a ")" at position ${index + 1} closes the bot's own parentheses: the filter must stay inside them`;
  }
  if (quote) return `unclosed ${quote} quote: the filter must stay inside the bot's parentheses`;
  if (depth > 0) return `unclosed "(": the filter must stay inside the bot's parentheses`;
  return undefined;
}

/** Every `next` names a known status; failure, done and the gate are not also step statuses. */
function checkStatusNames(source: SourceFile<Workflow>): DefinitionProblem[] {
  const workflow = source.value;
  const where = problemAt(source);
  const problems: DefinitionProblem[] = [];
  const bound = Object.keys(workflow.statuses);
  const known = new Set([
    ...bound,
    ...(workflow.gate ? [workflow.gate.status] : []),
    workflow.failure,
    workflow.done,
  ]);
  const knownStatuses = () =>
    [
      `statuses: ${bound.join(', ')}`,
      ...(workflow.gate ? [`gate: ${workflow.gate.status}`] : []),
      `failure: ${workflow.failure}`,
      `done: ${workflow.done}`,
    ].join('; ');
  const nexts: [PropertyKey[], string][] = [
    ...(workflow.gate ? [[['gate', 'next'], workflow.gate.next] as [PropertyKey[], string]] : []),
    ...Object.entries(workflow.statuses).map(
      ([status, binding]) => [['statuses', status, 'next'], binding.next] as [PropertyKey[], string],
    ),
  ];
  for (const [path, next] of nexts) {
    if (!known.has(next)) {
      problems.push(
        where(
          source.locate(path),
          `next status "${next}" is not a status of this workflow (${knownStatuses()})`,
        ),
      );
    }
  }
  for (const target of Object.keys(workflow.transitions ?? {})) {
    if (!known.has(target)) {
      problems.push(
        where(
          source.locateKey(['transitions', target]),
          `transitions: "${target}" is not a status of this workflow (${knownStatuses()})`,
        ),
      );
    }
  }
  for (const [key, status] of [
    ['failure', workflow.failure],
    ['done', workflow.done],
  ] as const) {
    if (status in workflow.statuses || workflow.gate?.status === status)
      problems.push(
        where(source.locate([key]), `${key} status "${status}" cannot also run a step or be the gate`),
      );
  }
  if (workflow.failure === workflow.done)
    problems.push(
      where(source.locate(['done']), `done and failure are both "${workflow.done}": they must differ`),
    );
  if (workflow.gate && workflow.gate.status in workflow.statuses) {
    problems.push(
      where(
        source.locate(['gate', 'status']),
        `gate status "${workflow.gate.status}" is also bound to a step under statuses: a status is one or the other`,
      ),
    );
  }
  return problems;
}

/** Two statuses running the same step must agree on where success goes. */
function checkContradictions(source: SourceFile<Workflow>): DefinitionProblem[] {
  const first = new Map<string, { status: string; next: string }>();
  const problems: DefinitionProblem[] = [];
  for (const [status, binding] of Object.entries(source.value.statuses)) {
    const earlier = first.get(binding.step);
    if (!earlier) first.set(binding.step, { status, next: binding.next });
    else if (earlier.next !== binding.next) {
      const line = source.locateKey(['statuses', earlier.status]).line;
      problems.push(
        problemAt(source)(
          source.locate(['statuses', status, 'next']),
          `statuses "${earlier.status}" (line ${line}) and "${status}" both run step "${binding.step}" but move on to "${earlier.next}" and "${binding.next}": one step, one next status`,
        ),
      );
    }
  }
  return problems;
}

/** Each runbook input has a field, and each field feeds an input. */
function checkFields(source: SourceFile<Workflow>, runbook: Runbook): DefinitionProblem[] {
  const workflow = source.value;
  const where = problemAt(source);
  const problems: DefinitionProblem[] = [];
  for (const input of Object.keys(runbook.inputs)) {
    if (!(input in workflow.fields))
      problems.push(
        where(
          source.locateKey(['fields']),
          `runbook input "${input}" has no Jira field (add fields.${input})`,
        ),
      );
  }
  const inputs = Object.keys(runbook.inputs).join(', ');
  for (const name of Object.keys(workflow.fields)) {
    if (!(name in runbook.inputs)) {
      problems.push(
        where(
          source.locateKey(['fields', name]),
          `"${name}" is not an input of runbook "${runbook.name}" (its inputs: ${inputs})`,
        ),
      );
    }
  }
  return problems;
}

/** The status a ticket enters the workflow at, and each status's success edge. */
function statusGraph(workflow: Workflow): { start: string | undefined; next: Map<string, string> } {
  const next = new Map<string, string>();
  if (workflow.gate) next.set(workflow.gate.status, workflow.gate.next);
  for (const [status, binding] of Object.entries(workflow.statuses)) next.set(status, binding.next);
  return { start: workflow.gate?.status ?? Object.keys(workflow.statuses)[0], next };
}

/** Every step status can be reached from the gate (or the first status) by following `next`. */
function checkReachability(source: SourceFile<Workflow>): DefinitionProblem[] {
  const workflow = source.value;
  const { start, next } = statusGraph(workflow);
  const reached = new Set<string>();
  for (let status = start; status !== undefined && !reached.has(status); status = next.get(status))
    reached.add(status);
  return Object.keys(workflow.statuses)
    .filter((status) => !reached.has(status))
    .map((status) =>
      problemAt(source)(
        source.locateKey(['statuses', status]),
        `status "${status}" is unreachable: no next leads to it from ${workflow.gate ? 'the gate' : 'the first status'} "${start}"`,
      ),
    );
}

/** A loop of `next` edges must pass a manual step, or the bot would go round it for ever. */
function checkLoops(source: SourceFile<Workflow>, runbook: Runbook): DefinitionProblem[] {
  const workflow = source.value;
  const { next } = statusGraph(workflow);
  const isHuman = (status: string) => {
    const step = runbook.steps[workflow.statuses[status]?.step ?? ''];
    return step?.kind === 'manual';
  };
  const problems: DefinitionProblem[] = [];
  const settled = new Set<string>();
  for (const origin of next.keys()) {
    const path: string[] = [];
    let status: string | undefined = origin;
    while (status !== undefined && next.has(status) && !settled.has(status) && !path.includes(status)) {
      path.push(status);
      status = next.get(status);
    }
    if (status !== undefined && path.includes(status)) {
      const loop = path.slice(path.indexOf(status));
      if (!loop.some(isHuman)) {
        const head = loop[0] ?? status;
        const keyPath = workflow.gate?.status === head ? ['gate', 'status'] : ['statuses', head];
        problems.push(
          problemAt(source)(
            source.locateKey(keyPath),
            `statuses loop with no manual step: ${[...loop, head].join(' → ')}; the bot would go round for ever (end at ${workflow.done} or pass a manual step)`,
          ),
        );
      }
    }
    path.forEach((visited) => settled.add(visited));
  }
  return problems;
}

/** Two workflows over the same project and issue type (and no JQL to tell them apart) clash. */
export function checkWorkflowOverlap(sources: readonly SourceFile<Workflow>[]): DefinitionProblem[] {
  const seen = new Map<string, SourceFile<Workflow>>();
  const problems: DefinitionProblem[] = [];
  for (const source of sources) {
    const { jira } = source.value;
    if (jira.jql) continue;
    const key = `${jira.project}\u0000${jira.issue_type}`;
    const other = seen.get(key);
    if (!other) seen.set(key, source);
    else {
      problems.push(
        problemAt(source)(
          source.locate(['jira']),
          `workflow "${other.value.name}" (${other.file}) already covers project ${jira.project}, issue type "${jira.issue_type}": add jira.jql to tell them apart`,
        ),
      );
    }
  }
  return problems;
}
