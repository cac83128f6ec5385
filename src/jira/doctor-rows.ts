// The rows of `runbot doctor` (src/jira/doctor.ts): one per check, its result, what was found and
// what to do; the helpers every check builds them with, and the table they are printed as.

export type DoctorResult = 'ok' | 'problem' | 'unchecked';

export interface DoctorRow {
  check: string;
  result: DoctorResult;
  /** What was found. */
  found: string;
  /** What to do about it (empty when ok). */
  fix: string;
}

export const ok = (check: string, found: string): DoctorRow => ({ check, result: 'ok', found, fix: '' });
export const problem = (check: string, found: string, fix: string): DoctorRow => ({
  check,
  result: 'problem',
  found,
  fix,
});

export const quoted = (value: string) => JSON.stringify(value);

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A failed read as a row: what Jira said and its hint (JiraRequestError's message carries both). */
export function failedRead(check: string, error: Error): DoctorRow {
  return problem(check, `could not read: ${error.message}`, 'fix what Jira said, then run doctor again');
}

/** The rows as a table: check, result, what was found, what to do. */
export function formatDoctorTable(rows: DoctorRow[]): string[] {
  const header: [string, string, string, string] = ['CHECK', 'RESULT', 'FOUND', 'WHAT TO DO'];
  const cells = rows.map((row): [string, string, string, string] => [
    row.check,
    row.result,
    row.found,
    row.fix || '-',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...[header, ...cells].map((line) => line[i]?.length ?? 0)));
  const line = (cols: [string, string, string, string]) =>
    cols
      .map((col, i) => (i < 3 ? col.padEnd(widths[i] ?? 0) : col))
      .join('  ')
      .trimEnd();
  const problems = rows.filter((row) => row.result === 'problem').length;
  const unchecked = rows.filter((row) => row.result === 'unchecked').length;
  return [
    line(header),
    ...cells.map(line),
    `doctor: ${rows.length} checks, ${problems} problem${problems === 1 ? '' : 's'}, ${unchecked} unchecked`,
  ];
}
