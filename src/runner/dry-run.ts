// Dry run, in one place: the worker takes no cap and consults no breaker (dryRunGuards), runs
// nothing and moves nothing; it logs what it would do now and in each later status if every step
// succeeded, and says it once in the ticket. `runbot plan` prints the same lines.
import type { JiraPort } from '../jira/port.js';
import type { Logger } from '../logger.js';
import {
  isActionable,
  planRoute,
  type ActionableDecision,
  type PlanInput,
  type TicketComment,
} from '../planner/index.js';
import * as comments from './comments.js';
import { hasComment } from './moves.js';
import { done, type Outcome } from './outcome.js';

export async function runDry(
  decision: ActionableDecision,
  ctx: { jira: JiraPort; now: () => Date; logger: Logger },
  seen: TicketComment[],
  planInput: PlanInput,
): Promise<Outcome> {
  const route = planRoute(planInput);
  const lines = [`${decision.visit.status}:`, ...actionLines(decision).map((line) => `  ${line}`)];
  if (route.length > 0) lines.push('', 'then, if each step succeeds:');
  for (const later of route) {
    const status = 'visit' in later ? later.visit.status : '?';
    lines.push(
      `${status}:`,
      ...(isActionable(later) ? actionLines(later) : [`nothing: ${later.reason}`]).map((line) => `  ${line}`),
    );
  }
  ctx.logger.info({ plan: lines }, 'dry run: the route it would take');
  if (!hasComment(seen, comments.commentRef(decision.visit, `dry-run-${decision.kind}`))) {
    await ctx.jira.addComment(decision.visit.key, comments.wouldRun(decision, lines, ctx.now()));
  }
  return done('dry-run');
}

/** One line per action, for dry runs and `runbot plan`. */
export function actionLines(decision: ActionableDecision): string[] {
  switch (decision.kind) {
    case 'runStep':
      if (decision.transport === 'redfish')
        return [
          `${decision.redfish.action} ${decision.redfish.bmc.host} over Redfish (BMC https://${decision.redfish.bmc.address}:${decision.redfish.bmc.port}) for ${decision.step.name}`,
          ...decision.commands.map((command) => `  $ ${command}`),
          `  then move to ${decision.step.next}`,
        ];
      if (decision.transport === 'ipmi')
        return [
          `${decision.ipmi.action} ${decision.ipmi.bmc.host} over IPMI (BMC ${decision.ipmi.bmc.address}:${decision.ipmi.bmc.port}) for ${decision.step.name}`,
          ...decision.commands.map((command) => `  $ ${command}`),
          `  then move to ${decision.step.next}`,
        ];
      return [
        `run ${decision.step.name} on ${decision.target.user}@${decision.target.host}:${decision.target.port}`,
        ...(decision.doneWhen ? [`  skip if: ${decision.doneWhen.command}`] : []),
        ...decision.commands.map((command) => `  $ ${command}`),
        `  then move to ${decision.step.next}`,
      ];
    case 'checkStep':
      return [
        `check ${decision.step.name} on ${decision.target.host} (round ${decision.round})`,
        `  $ ${decision.command}`,
        `  done when: ${decision.doneWhen}; then move to ${decision.step.next}`,
      ];
    case 'postInstructions':
      return [
        `post Action Required for ${decision.step.name} (run on ${decision.where})`,
        ...decision.blocks.flatMap((block) => block.commands.map((command) => `  $ ${command}`)),
      ];
    case 'transition':
      return [`move to ${decision.to}: ${decision.reason}`];
    case 'escalate':
      return [`move to ${decision.to}: ${decision.title} — ${decision.reason}`];
    case 'noteHold':
      return [`comment that ${decision.step.name} waits: ${decision.hold.reason}`];
    case 'hold':
      return [`wait for ${decision.holder}, which holds ${decision.input} ${decision.value} (one comment)`];
    case 'requestApproval':
      return [
        `ask for approval of ${decision.step.name} (move to ${decision.to}; a person moves it to ${decision.approved})`,
        ...decision.plan.map((line) => `  ${line}`),
      ];
  }
}
