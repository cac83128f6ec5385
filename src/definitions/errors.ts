// A problem in a definition file, located at the YAML node that causes it (1-based line:col).

export interface DefinitionProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(problem: DefinitionProblem): string {
  return `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`;
}

/** Thrown when definitions do not load; carries every problem found, not just the first. */
export class DefinitionError extends Error {
  constructor(readonly problems: DefinitionProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'DefinitionError';
  }
}
