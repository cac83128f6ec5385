// The poller: one search per workflow (paged), the pure planner for each ticket, and a job for
// every decision that calls for action. Level-triggered: it keeps no memory between cycles.
import type { Definitions } from '../definitions/index.js';
import type { JiraPort } from '../jira/port.js';
import type { Logger } from '../logger.js';
import { isActionable, planTicket, type Decision, type OpenBreakers, type Ticket } from '../planner/index.js';
import { jobFor, type StepJob } from '../queue/index.js';
import { planInputFor, workflowContexts } from '../runner/context.js';
import { workflowJql } from './context.js';
import { batchHolders } from './holders.js';

export interface PollerDeps {
  jira: JiraPort;
  definitions: Definitions;
  enqueue: (job: StepJob) => Promise<void>;
  now: () => Date;
  timeScale: number;
  logger: Logger;
  /** The failure-rate breakers open now (Redis), read once per cycle; without it, none. */
  openBreakers?: () => Promise<OpenBreakers>;
}

export interface CycleReport {
  tickets: number;
  enqueued: number;
  /** Tickets per status, across workflows. */
  byStatus: Record<string, number>;
  decisions: Record<Decision['kind'], number>;
}

export async function pollOnce(deps: PollerDeps): Promise<CycleReport> {
  const cycle: CycleReport = {
    tickets: 0,
    enqueued: 0,
    byStatus: {},
    decisions: {
      runStep: 0,
      checkStep: 0,
      postInstructions: 0,
      transition: 0,
      escalate: 0,
      noteHold: 0,
      hold: 0,
      requestApproval: 0,
      nothing: 0,
    },
  };
  const openBreakers = await deps.openBreakers?.();
  for (const context of workflowContexts(deps.definitions).values()) {
    const jql = workflowJql(context.workflow);
    // The whole search first: who holds an exclusive value (one restore per host) is a property of
    // the batch, so every poller that sees the same tickets plans the same holder.
    const tickets: Ticket[] = [];
    let token: string | undefined;
    do {
      const page = await deps.jira.searchPage(jql, context.shape, token);
      for (const ticket of page.tickets) {
        const { project, issue_type } = context.workflow.jira;
        if (ticket.project !== project || ticket.issueType !== issue_type) {
          // Only a workflow's extra JQL could let these through; they are not this workflow's to touch.
          deps.logger.warn(
            { ticket: ticket.key, workflow: context.workflow.name },
            'search returned a ticket of another project or type',
          );
          continue;
        }
        tickets.push(ticket);
      }
      token = page.nextPageToken;
    } while (token);
    const holders = batchHolders(context, tickets);
    for (const ticket of tickets) {
      cycle.tickets += 1;
      cycle.byStatus[ticket.status] = (cycle.byStatus[ticket.status] ?? 0) + 1;
      const decision = planTicket(planInputFor(context, ticket, deps, { openBreakers, holders }));
      cycle.decisions[decision.kind] += 1;
      if (!isActionable(decision)) continue;
      deps.logger.debug(
        { ticket: ticket.key, workflow: context.workflow.name, decision: decision.kind },
        'planned',
      );
      await deps.enqueue(jobFor(decision));
      cycle.enqueued += 1;
    }
  }
  return cycle;
}

/**
 * Polls until the signal aborts; `wake()` asks for an early cycle (a webhook hint). Early cycles are
 * coalesced: hints that arrive within `minWakeIntervalMs` of the last early cycle's start become one
 * cycle when that interval has passed, so a flood of deliveries cannot become a flood of searches.
 */
export function runPoller(
  deps: PollerDeps & {
    intervalMs: number;
    signal: AbortSignal;
    onCycle?: (report: CycleReport) => void;
    /** Least time between two cycles asked for by hints (default 0: at once). */
    minWakeIntervalMs?: number;
  },
) {
  const minWake = deps.minWakeIntervalMs ?? 0;
  let rearm: (() => void) | undefined;
  // A hint that arrives during a cycle is kept, so it is served after it rather than lost.
  let wakePending = false;
  let lastWokenStart = Number.NEGATIVE_INFINITY;
  const done = (async () => {
    while (!deps.signal.aborted) {
      const started = Date.now();
      // This cycle serves every hint so far.
      if (wakePending) lastWokenStart = started;
      wakePending = false;
      try {
        const report = await pollOnce(deps);
        deps.onCycle?.(report);
        deps.logger.debug({ ...report, ms: Date.now() - started }, 'poll cycle');
      } catch (error) {
        deps.logger.warn({ err: error }, 'poll cycle failed');
      }
      if (deps.signal.aborted) continue;
      const regularAt = Date.now() + deps.intervalMs;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = () => {
          clearTimeout(timer);
          deps.signal.removeEventListener('abort', finish);
          rearm = undefined;
          resolve();
        };
        const arm = () => {
          clearTimeout(timer);
          const wokenAt = wakePending
            ? Math.max(Date.now(), lastWokenStart + minWake)
            : Number.POSITIVE_INFINITY;
          timer = setTimeout(finish, Math.max(0, Math.min(regularAt, wokenAt) - Date.now()));
        };
        rearm = arm;
        arm();
        deps.signal.addEventListener('abort', finish, { once: true });
      });
    }
  })();
  return {
    done,
    wake: () => {
      wakePending = true;
      rearm?.();
    },
  };
}
