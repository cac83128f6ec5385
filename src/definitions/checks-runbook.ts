// The runbook checks a schema cannot express: the host input, input patterns anchored at both ends,
// templates that name only known variables and no quoted placeholders. Each problem is placed at the
// YAML node that causes it (the placeholder itself when the text shows it).
import type { DefinitionProblem } from './errors.js';
import type { Runbook, Step } from './schema.js';
import { commandIssues, knownVariables, templateIssues, type TemplateProblem } from './template.js';
import { problemAt, type Position, type SourceFile } from './yaml-file.js';

/** Runbook rules: the host input, anchored input patterns, known variables, no quoted placeholders. */
export function checkRunbook(source: SourceFile<Runbook>): DefinitionProblem[] {
  const runbook = source.value;
  const where = problemAt(source);
  const problems: DefinitionProblem[] = [];
  if (!('host' in runbook.inputs)) {
    problems.push(
      where(
        source.locateKey(['inputs']),
        'inputs: a runbook needs an input named "host" (the inventory site is found by it)',
      ),
    );
  }
  for (const [name, input] of Object.entries(runbook.inputs)) {
    if (input.pattern === undefined) continue;
    const reason = anchorProblem(input.pattern);
    if (reason)
      problems.push(where(source.locate(['inputs', name, 'pattern']), `inputs.${name}.pattern: ${reason}`));
  }
  const known = knownVariables(Object.keys(runbook.inputs));
  for (const [name, step] of Object.entries(runbook.steps)) {
    for (const { path, template, command } of stepTemplates(step)) {
      const fieldPath = ['steps', name, ...path];
      const issues = [...templateIssues(template, known), ...(command ? commandIssues(template) : [])];
      for (const issue of issues) {
        problems.push(where(locateIssue(source, fieldPath, template, issue), issue.message));
      }
    }
  }
  return problems;
}

/**
 * Why a pattern does not make a ticket value match as a whole, if it does not: it must start with
 * ^ and end with an unescaped $, with no top-level | (in `^a$|^.*$` the second branch takes anything).
 */
export function anchorProblem(pattern: string): string | undefined {
  const escapedEnd = /(^|[^\\])(\\\\)*\\\$$/.test(pattern);
  if (!pattern.startsWith('^') || !pattern.endsWith('$') || escapedEnd)
    return 'anchor the pattern with ^ and $ so a ticket value must match as a whole';
  if (topLevelAlternation(pattern))
    return 'a top-level | lets a branch escape the anchors: group the alternatives, as in ^(?:a|b)$';
  return undefined;
}

function topLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '\\') index += 1;
    else if (inClass) inClass = char !== ']';
    else if (char === '[') inClass = true;
    else if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === '|' && depth === 0) return true;
  }
  return false;
}

/** A problem about one placeholder is placed at it (in the YAML text); others at the template. */
function locateIssue<T>(
  source: SourceFile<T>,
  fieldPath: PropertyKey[],
  template: string,
  issue: TemplateProblem,
): Position {
  if (issue.at === undefined) return source.locate(fieldPath);
  const needle = /^\{\{.*?\}\}/.exec(template.slice(issue.at))?.[0];
  if (!needle) return source.locate(fieldPath);
  // The same placeholder may appear more than once: find the same occurrence in the YAML text.
  const occurrence = template.slice(0, issue.at).split(needle).length - 1;
  return source.locateText(fieldPath, needle, occurrence);
}

interface StepTemplate {
  path: PropertyKey[];
  template: string;
  /** Rendered for a shell (each value quoted), rather than shown as text. */
  command: boolean;
}

/** Every template of a step with its path inside the step. */
function stepTemplates(step: Step): StepTemplate[] {
  const text = (path: PropertyKey[], template: string) => ({ path, template, command: false });
  const command = (path: PropertyKey[], template: string) => ({ path, template, command: true });
  const templates: StepTemplate[] = [text(['target'], step.target)];
  switch (step.kind) {
    case 'ssh':
      step.commands.forEach((line, index) => templates.push(command(['commands', index], line)));
      if (step.done_when) templates.push(command(['done_when', 'command'], step.done_when.command));
      break;
    case 'wait':
      templates.push(command(['check'], step.check));
      break;
    case 'manual':
      templates.push(text(['title'], step.title));
      step.instructions.forEach((block, index) => {
        templates.push(text(['instructions', index, 'text'], block.text));
        block.commands?.forEach((line, lineIndex) =>
          templates.push(command(['instructions', index, 'commands', lineIndex], line)),
        );
      });
      break;
    case 'ipmi':
    case 'redfish':
      // The instructions posted when the site has no BMC access (fallback: manual).
      if (step.title) templates.push(text(['title'], step.title));
      step.instructions?.forEach((block, index) => {
        templates.push(text(['instructions', index, 'text'], block.text));
        block.commands?.forEach((line, lineIndex) =>
          templates.push(command(['instructions', index, 'commands', lineIndex], line)),
        );
      });
      break;
  }
  return templates;
}
