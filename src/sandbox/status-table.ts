// The demo's live view: the status table of `runbot status`, built from the sandbox's tickets, with
// the recent events (status moves, the bot's comments, the people's moves). On a terminal it is
// redrawn in place; otherwise (CI, a log file) it prints a line when something changes.
import { plainText } from '../jira/adf.js';
import type { Workflow } from '../definitions/index.js';
import { BookkeepingSchema } from '../planner/index.js';
import { renderStatusTable, statusLine, statusTable, type TicketView } from '../service/status.js';
import type { Definitions } from '../definitions/index.js';
import type { JiraSandbox } from './jira/index.js';

const RECENT_EVENTS = 8;

export interface DemoWatch {
  /** Reads the tickets again; returns the events since the last look, each one line. */
  look(elapsedMs: number): string[];
  /** Adds events seen elsewhere (the people's moves) to the recent list. */
  record(elapsedMs: number, events: string[]): void;
  /** The full table (for a terminal) and the one-line form (for logs). */
  table(elapsedMs: number): { lines: string[]; line: string };
  /** Counts seen so far, for the summary. */
  tally: { comments: number; failures: number; actionRequired: number; handedBack: number };
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
const at = (elapsedMs: number) => `${(elapsedMs / 1000).toFixed(1).padStart(6)} s`;

export function watchDemo(
  sandbox: JiraSandbox,
  workflow: Workflow,
  definitions: Pick<Definitions, 'runbooks'>,
  tickets: { key: string }[],
): DemoWatch {
  const seen = new Map<string, { status: string; comments: number }>();
  const recent: string[] = [];
  const tally = { comments: 0, failures: 0, actionRequired: 0, handedBack: 0 };
  let views: TicketView[] = [];

  const look = (elapsedMs: number): string[] => {
    const events: string[] = [];
    views = [];
    for (const { key } of tickets) {
      const issue = sandbox.snapshot(key);
      if (!issue) continue;
      const parsed = BookkeepingSchema.safeParse(issue.properties.runbot);
      views.push({ key, status: issue.status, bookkeeping: parsed.success ? parsed.data : undefined });
      const before = seen.get(key);
      for (const comment of issue.comments.slice(before?.comments ?? 0)) {
        const heading =
          plainText(comment.body)
            .split('\n')
            .find((line) => line.trim() !== '') ?? '';
        tally.comments += 1;
        if (heading.startsWith('❌')) tally.failures += 1;
        if (heading.startsWith('Action Required')) tally.actionRequired += 1;
        events.push(`${key} comment: ${clip(heading, 70)}`);
      }
      if (before && before.status !== issue.status) {
        if (before.status === workflow.failure) tally.handedBack += 1;
        events.push(`${key} ${before.status} → ${issue.status}`);
      }
      seen.set(key, { status: issue.status, comments: issue.comments.length });
    }
    record(elapsedMs, events);
    return events;
  };
  const record = (elapsedMs: number, events: string[]) => {
    for (const event of events) recent.push(`${at(elapsedMs)}  ${event}`);
    recent.splice(0, Math.max(0, recent.length - RECENT_EVENTS));
  };

  return {
    look,
    record,
    tally,
    table(elapsedMs) {
      const table = statusTable(workflow, definitions, views, new Date());
      table.title = `runbot demo · ${(elapsedMs / 1000).toFixed(1)} s · ${table.title}`;
      return {
        lines: [...renderStatusTable(table), '  recent:', ...recent.map((e) => `  ${e}`)],
        line: statusLine(table),
      };
    },
  };
}

/** Writes the table in place on a terminal (ANSI: cursor up, clear to the end), or lines otherwise. */
export function liveDisplay(
  write: (text: string) => void,
  tty: boolean,
  columns = () => process.stdout.columns,
) {
  let drawn = 0;
  let lastLine = '';
  return {
    show(elapsedMs: number, view: { lines: string[]; line: string }, events: string[]) {
      if (tty) {
        const up = drawn > 0 ? `\x1b[${drawn}A\r\x1b[J` : '';
        // A wrapped line would take two rows and throw off the count of rows to go back up.
        const width = Math.max(20, (columns() || 100) - 1);
        write(`${up}${view.lines.map((line) => clip(line, width)).join('\n')}\n`);
        drawn = view.lines.length;
        return;
      }
      for (const event of events) write(`${at(elapsedMs)}  ${event}\n`);
      if (view.line !== lastLine) write(`${at(elapsedMs)}  ${view.line}\n`);
      lastLine = view.line;
    },
  };
}
