// The worker's processor: re-read the ticket (GET is consistent, search is not), plan again, and act
// only if the fresh plan still calls for this job; otherwise the world moved on and the job ends quietly.
import type { Definitions } from '../definitions/index.js';
import type { Logger } from '../logger.js';
import { planTicket } from '../planner/index.js';
import { stillWanted, type StepJob } from '../queue/index.js';
import { act, type ActContext, type ActOutcome } from './act.js';
import { workflowContexts } from './context.js';

export interface WorkerDeps extends Omit<ActContext, 'failureStatus' | 'logger'> {
  definitions: Definitions;
  logger: Logger;
  timeScale: number;
  onOutcome?: (job: StepJob, outcome: ActOutcome | 'stale' | 'gone') => void;
}

export function createStepProcessor(deps: WorkerDeps) {
  const contexts = workflowContexts(deps.definitions);
  return async (job: StepJob, attempt: { number: number; last: boolean }): Promise<string> => {
    const logger = deps.logger.child({
      ticket: job.key,
      workflow: job.workflow,
      job: job.kind,
      visit: job.visit,
    });
    const context = contexts.get(job.workflow);
    if (!context) {
      logger.warn('job names a workflow that is not loaded');
      return 'stale';
    }
    const ticket = await deps.jira.getTicket(job.key, context.shape);
    if (!ticket) {
      deps.onOutcome?.(job, 'gone');
      return 'gone';
    }
    const decision = planTicket({
      ticket,
      workflow: context.workflow,
      runbook: context.runbook,
      inventory: deps.definitions.inventory,
      now: deps.now(),
      timeScale: deps.timeScale,
    });
    if (!stillWanted(job, decision)) {
      logger.debug({ fresh: decision.kind }, 'job no longer wanted');
      deps.onOutcome?.(job, 'stale');
      return 'stale';
    }
    const step = 'step' in decision ? decision.step.name : undefined;
    const stepLogger = logger.child({ step });
    const outcome = await act(
      decision,
      { ...deps, logger: stepLogger, failureStatus: context.workflow.failure },
      { lastAttempt: attempt.last, comments: ticket.comments ?? [] },
    );
    stepLogger.info({ outcome, attempt: attempt.number }, 'job done');
    deps.onOutcome?.(job, outcome);
    return outcome;
  };
}
