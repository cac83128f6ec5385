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

/** Problems in one template: unknown variables and stray braces. */
export function templateProblems(template: string, known: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!known.has(name))
      problems.push(`unknown template variable "${name}" (known: ${[...known].sort().join(', ')})`);
  }
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('unbalanced "{{" or "}}" in template');
  return problems;
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

function render(template: string, variables: TemplateVariables, encode: (value: string) => string): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = variables[name];
    // Validation rejects unknown variables before anything is planned; reaching this is our bug.
    if (value === undefined) throw new Error(`template variable "${name}" has no value`);
    return encode(value);
  });
}
