// Which read a wait step's check round plans from. Most rounds find the step still running and write
// nothing, so they read light (JiraPort.getTicketFields: the fields and the bookkeeping, no comments,
// no transitions with their screens); a result that calls for a write is decided on a full read
// (runner.ts, checkRound). These read in full from the start:
// - the last check, past the deadline: it moves the ticket whatever it finds;
// - the check job's first run (it has not been put back for a next round yet: no `dueAt`), so a
//   transition screen that would refuse the step's moves is refused at the first check, as before
//   (later rounds would find it only when the check calls for a move);
// - a visit already told that its move is refused (`instructed`: in a wait step's status only the
//   refusal's Action Required comment sets it), whose plan is `nothing` only with the screens read;
// - a dry run, which says once, by its comment, what it would do.
import type { JiraPort, TicketShape } from '../jira/port.js';
import type { Ticket } from '../planner/index.js';
import type { StepJob } from '../queue/index.js';

/** Does this job plan from the light read? */
export function readsLight(job: StepJob, dryRun: boolean): boolean {
  return job.kind === 'checkStep' && job.final !== true && job.dueAt !== undefined && !dryRun;
}

/** The light read, or the full one for a visit already told its move is refused; `light` says which. */
export async function lightRead(
  job: StepJob,
  shape: TicketShape,
  jira: Pick<JiraPort, 'getTicket' | 'getTicketFields'>,
): Promise<{ ticket: Ticket | undefined; light: boolean }> {
  const ticket = await jira.getTicketFields(job.key, shape);
  const recorded = ticket?.bookkeeping;
  if (!recorded?.instructed || recorded.status !== ticket?.status) return { ticket, light: true };
  return { ticket: await jira.getTicket(job.key, shape), light: false };
}
