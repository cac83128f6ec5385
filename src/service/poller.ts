// The poller: one search per workflow (paged), the pure planner for each ticket, and a job for
// every decision that calls for action. Level-triggered: it keeps no memory between cycles.
// Page by page: a ticket past the gate is planned and dropped with its page; only tickets at the
// gate wait for the end of the search, since who holds an exclusive value (one restore per host)
// is a property of the whole batch — every ticket's key, status and value is kept for that.
import type { Definitions } from '../definitions/index.js';
import type { JiraPort } from '../jira/port.js';
import type { Logger } from '../logger.js';
import {
  exclusiveInputs,
  isActionable,
  planTicket,
  type Decision,
  type HolderClaim,
  type InputHolders,
  type OpenBreakers,
  type Ticket,
} from '../planner/index.js';
import { jobFor, type StepJob } from '../queue/index.js';
import { planInputFor, workflowContexts } from '../runner/context.js';
import { workflowJql } from './context.js';
import { batchHolders } from './holders.js';

/** What holding an exclusive value depends on: the ticket's key, status and those values. */
function claimOf(ticket: Ticket, inputs: string[]): HolderClaim {
  const values: Record<string, string> = {};
  for (const input of inputs) {
    const value = ticket.inputs[input];
    if (value !== undefined) values[input] = value;
  }
  return { key: ticket.key, status: ticket.status, inputs: values };
}

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
  // Asked once: the line's fields are not built per ticket when debug lines are not written.
  const debug = deps.logger.isLevelEnabled('debug');
  for (const context of workflowContexts(deps.definitions).values()) {
    const jql = workflowJql(context.workflow);
    const gate = context.workflow.gate?.status;
    const exclusive = exclusiveInputs(context.workflow);
    const holdersFor = exclusive.length > 0 && gate !== undefined;
    // Who may hold a value: every ticket's key, status and exclusive values (a few strings each).
    const claims: HolderClaim[] = [];
    const atGate: Ticket[] = [];
    // A page's jobs are handed to the queue together (it checks which exist in one round trip) and
    // awaited before the next page, so a cycle that fails still fails where it did.
    const adding: Promise<void>[] = [];
    const plan = (ticket: Ticket, holders: InputHolders | undefined): void => {
      cycle.tickets += 1;
      cycle.byStatus[ticket.status] = (cycle.byStatus[ticket.status] ?? 0) + 1;
      const decision = planTicket(planInputFor(context, ticket, deps, { openBreakers, holders }));
      cycle.decisions[decision.kind] += 1;
      if (!isActionable(decision)) return;
      if (debug)
        deps.logger.debug(
          { ticket: ticket.key, workflow: context.workflow.name, decision: decision.kind },
          'planned',
        );
      adding.push(
        deps.enqueue(jobFor(decision)).then(() => {
          cycle.enqueued += 1;
        }),
      );
    };
    let token: string | undefined;
    do {
      const page = await deps.jira.searchPage(jql, context.shape, token);
      const { project, issue_type } = context.workflow.jira;
      for (const ticket of page.tickets) {
        if (ticket.project !== project || ticket.issueType !== issue_type) {
          // Only a workflow's extra JQL could let these through; they are not this workflow's to touch.
          deps.logger.warn(
            { ticket: ticket.key, workflow: context.workflow.name },
            'search returned a ticket of another project or type',
          );
          continue;
        }
        if (holdersFor) {
          claims.push(claimOf(ticket, exclusive));
          if (ticket.status === gate) {
            atGate.push(ticket);
            continue;
          }
        }
        plan(ticket, undefined);
      }
      await Promise.all(adding.splice(0));
      token = page.nextPageToken;
    } while (token);
    if (holdersFor) {
      const holders = batchHolders(context, claims);
      for (const ticket of atGate) plan(ticket, holders);
      await Promise.all(adding.splice(0));
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
    /** A cycle ended, with how long it took (metrics). */
    onCycle?: (report: CycleReport, seconds: number) => void;
    /** A cycle failed part way (a Jira or Redis call in it failed), after this long (metrics). */
    onCycleFailed?: (seconds: number) => void;
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
        deps.onCycle?.(report, (Date.now() - started) / 1000);
        deps.logger.debug({ ...report, ms: Date.now() - started }, 'poll cycle');
      } catch (error) {
        deps.onCycleFailed?.((Date.now() - started) / 1000);
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
