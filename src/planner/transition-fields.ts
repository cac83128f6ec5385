// Transition screens: a move whose screen requires a field the workflow gives no value for (and Jira
// has no default for) cannot succeed, so the step is not run. Jira says which fields a transition
// needs in GET issue with expand=transitions.fields (FieldMetadata: required, hasDefaultValue); the
// worker's consistent read carries them, the search does not (then nothing is checked here).
import type { Workflow } from '../definitions/index.js';
import type { Decision, StepRef } from './decision.js';
import type { TicketTransition, TransitionField } from './ticket.js';

export interface BlockedMove {
  to: string;
  fields: TransitionField[];
}

/** The fields a move to `to` needs that neither the workflow nor a Jira default gives. */
function missingFields(transitions: TicketTransition[], to: string, workflow: Workflow): TransitionField[] {
  const given = workflow.transitions?.[to]?.fields ?? {};
  const candidates = transitions.filter((transition) => transition.to === to);
  // No transition to `to` at all is not ours to judge here: the move ends as refused (a person moved it).
  if (candidates.length === 0) return [];
  const needs = (transition: TicketTransition) =>
    transition.fields.filter((field) => field.required && !field.hasDefaultValue && !(field.key in given));
  // Any one transition that can go is enough (the adapter picks by target status).
  const options = candidates.map(needs);
  return options.some((fields) => fields.length === 0) ? [] : (options[0] ?? []);
}

/** The statuses a decision will move the ticket to: on success and on failure. */
function targetsOf(decision: Decision, workflow: Workflow): string[] {
  switch (decision.kind) {
    case 'runStep':
    case 'checkStep':
      return [decision.step.next, workflow.failure];
    case 'transition':
    case 'escalate':
      return [decision.to];
    default:
      return [];
  }
}

/** Names a field the way people see it in Jira, with its id for the workflow's `transitions`. */
function fieldLabel(field: TransitionField): string {
  return field.name === field.key ? field.key : `${field.name} (${field.key})`;
}

/** Why each blocked move cannot be made: the fields its screen requires that the workflow does not give. */
function blockedMovesText(blocked: BlockedMove[], workflow: Workflow, status: string): string {
  return blocked
    .map(({ to, fields }) => {
      const each = fields.map((field) => {
        const allowed = field.allowedValues.length > 0 ? `; allowed: ${field.allowedValues.join(', ')}` : '';
        return `${fieldLabel(field)}${allowed}`;
      });
      return `The transition from ${status} to ${to} has a screen that requires ${each.join(' and ')}, and workflow ${workflow.name} gives no value for it (and Jira has no default).`;
    })
    .join(' ');
}

function howToFix(blocked: BlockedMove[], workflow: Workflow): string {
  const yaml = blocked
    .map(({ to, fields }) => `${to}: { fields: { ${fields.map((f) => `${f.key}: …`).join(', ')} } }`)
    .join('; ');
  return `Give the value in workflow ${workflow.name} under transitions (${yaml}), or make the field optional or give it a default on the transition's screen in Jira`;
}

/**
 * The decision, unless a move it leads to cannot succeed: then nothing runs and a person is told which
 * field is missing — by moving the ticket to the failure status when that move can go, else by one
 * Action Required comment on the ticket where it is.
 */
export function guardTransitionFields(
  decision: Decision,
  context: { transitions: TicketTransition[] | undefined; workflow: Workflow; stepRef: StepRef },
): Decision {
  const { transitions, workflow } = context;
  if (!transitions || !('visit' in decision)) return decision;
  const blocked = targetsOf(decision, workflow)
    .map((to) => ({ to, fields: missingFields(transitions, to, workflow) }))
    .filter((move) => move.fields.length > 0);
  if (blocked.length === 0) return decision;
  const { visit } = decision;
  const names = [...new Set(blocked.flatMap((move) => move.fields.map((field) => field.name)))];
  const title = `Jira requires ${names.join(' and ')} to move this ticket`;
  const reason = `${blockedMovesText(blocked, workflow, visit.status)} The bot ran nothing, because it could not move the ticket afterwards.`;
  const fix = howToFix(blocked, workflow);
  if (!blocked.some((move) => move.to === workflow.failure)) {
    return {
      kind: 'escalate',
      visit,
      to: workflow.failure,
      title,
      reason,
      nextStep: `${fix}, then move the ticket back to ${visit.status}.`,
      refusedMove: true,
    };
  }
  // Not even the failure status can be reached: the ticket stays, and the comment is posted once.
  if (visit.bookkeeping.instructed) {
    return { kind: 'nothing', reason: `waiting for a person: ${title}` };
  }
  return {
    kind: 'postInstructions',
    visit,
    step: context.stepRef,
    where: 'Jira',
    title,
    blocks: [
      { text: reason, commands: [] },
      {
        text: `${fix}. The ticket stays in ${visit.status}, and the bot takes it up again once the move can succeed.`,
        commands: [],
      },
    ],
    purpose: 'transition-fields',
    refusedMove: true,
  };
}
