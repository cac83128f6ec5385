// `{{ name }}` templates. Every value substituted into a command is quoted by shell-quote (a vetted
// library), so no ticket field can change the shell words of a command; text templates are not quoted.
import { quote } from 'shell-quote';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

export type TemplateVariables = Record<string, string>;

/** Variables a runbook's templates may name: each input (and its `.short` form), site and ticket facts. */
export function knownVariables(inputNames: readonly string[]): Set<string> {
  const names = new Set(['site.name', 'site.manager', 'ticket.key']);
  for (const input of inputNames) {
    names.add(input);
    names.add(`${input}.short`);
  }
  return names;
}

/** A problem in a template; `at` is the offset of the placeholder it is about, if any. */
export interface TemplateProblem {
  message: string;
  at?: number;
}

/** Problems in one template: unknown variables and stray braces. */
export function templateProblems(template: string, known: ReadonlySet<string>): string[] {
  return templateIssues(template, known).map((problem) => problem.message);
}

export function templateIssues(template: string, known: ReadonlySet<string>): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!known.has(name)) {
      const message = `unknown template variable "${name}" (known: ${[...known].sort().join(', ')})`;
      problems.push({ message, at: match.index });
    }
  }
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}'))
    problems.push({ message: 'unbalanced "{{" or "}}" in template' });
  return problems;
}

/**
 * Problems of a command template beyond its variables: a placeholder inside the author's quotes or
 * backticks. Each value is already quoted as one shell word; inside '…' our quotes would become part
 * of the text, inside "…" or `…` the shell would expand what the quoting protected. Inside $( … )
 * the shell parses afresh, so a placeholder there is fine (even within "$( … )").
 */
export function commandProblems(template: string): string[] {
  return commandIssues(template).map((problem) => problem.message);
}

export function commandIssues(template: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  // What encloses the current character, innermost last.
  const stack: ('single quotes' | 'double quotes' | 'backticks' | '$(' | '(')[] = [];
  for (let index = 0; index < template.length; index += 1) {
    const char = template[index];
    const top = stack.at(-1);
    const placeholder = placeholderAt(template, index);
    if (placeholder !== undefined) {
      const enclosing = top === 'single quotes' || top === 'double quotes' ? top : undefined;
      const within = enclosing ?? (stack.includes('backticks') ? 'backticks' : undefined);
      if (within) {
        const instead =
          within === 'backticks' ? 'use $( … ) instead of backticks' : 'remove the quotes around it';
        problems.push({
          message: `placeholder ${placeholder} is inside ${within}: runbot quotes every value as one shell word itself; ${instead}`,
          at: index,
        });
      }
      index += placeholder.length - 1;
    } else if (top === 'single quotes') {
      if (char === "'") stack.pop();
    } else if (char === '\\') index += 1;
    else if (top === 'double quotes' && char === '"') stack.pop();
    else if (top === 'backticks' && char === '`') stack.pop();
    else if (char === '$' && template[index + 1] === '(') {
      stack.push('$(');
      index += 1;
    } else if (char === '`') stack.push('backticks');
    else if (char === '"') stack.push('double quotes');
    else if (top !== 'double quotes' && char === "'") stack.push('single quotes');
    else if (top !== 'double quotes' && char === '(') stack.push('(');
    else if (top !== 'double quotes' && char === ')' && (top === '$(' || top === '(')) stack.pop();
  }
  return problems;
}

function placeholderAt(template: string, index: number): string | undefined {
  if (!template.startsWith('{{', index)) return undefined;
  const match = new RegExp(PLACEHOLDER.source, 'y');
  match.lastIndex = index;
  return match.exec(template)?.[0];
}

/**
 * Why a ticket value cannot be a template value, if it cannot: a NUL cannot be part of a command
 * line (C strings end there), and other control characters are never part of a real field value.
 */
export function unsafeValueReason(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u0008\u000b-\u001f\u007f]/.exec(value);
  if (!control) return undefined;
  const code = control[0].charCodeAt(0).toString(16).padStart(4, '0');
  return `the value contains the control character U+${code.toUpperCase()} at position ${control.index + 1}`;
}

/** Values for the templates of one ticket; `.short` is the first label of a dotted name. */
export function templateVariables(
  inputs: Record<string, string>,
  site: { name: string; manager: string },
  ticketKey: string,
): TemplateVariables {
  const variables: TemplateVariables = {
    'site.name': site.name,
    'site.manager': site.manager,
    'ticket.key': ticketKey,
  };
  for (const [name, value] of Object.entries(inputs)) {
    variables[name] = value;
    variables[`${name}.short`] = value.split('.')[0] ?? value;
  }
  return variables;
}

/** A command: each value becomes exactly one shell word. */
export function renderCommand(template: string, variables: TemplateVariables): string {
  return render(template, variables, (value) => quote([value]));
}

/** Prose (titles, instructions, targets): values as they are. */
export function renderText(template: string, variables: TemplateVariables): string {
  return render(template, variables, (value) => value);
}

/** A template split once at its placeholders: text, then a variable's name, then text, and so on. */
const compiled = new Map<string, string[]>();
/** Templates come from the loaded definitions (a few hundred); a bound all the same. */
const COMPILED_MAX = 10_000;

function partsOf(template: string): string[] {
  let parts = compiled.get(template);
  if (parts === undefined) {
    parts = [];
    let at = 0;
    for (const match of template.matchAll(PLACEHOLDER)) {
      parts.push(template.slice(at, match.index), match[1] as string);
      at = match.index + match[0].length;
    }
    parts.push(template.slice(at));
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(template, parts);
  }
  return parts;
}

// The same as template.replace(PLACEHOLDER, …), with the template split once rather than matched on
// every render: the poller plans every ticket each cycle and the plans render their commands.
function render(template: string, variables: TemplateVariables, encode: (value: string) => string): string {
  const parts = partsOf(template);
  let text = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i] as string;
    const value = variables[name];
    // Validation rejects unknown variables before anything is planned; reaching this is our bug.
    if (value === undefined) throw new Error(`template variable "${name}" has no value`);
    text += encode(value) + (parts[i + 1] as string);
  }
  return text;
}
