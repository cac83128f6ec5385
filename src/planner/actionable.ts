// Which decisions call for work: the poller enqueues a job for each, the worker carries it out.
import type { Decision } from './decision.js';

export const ACTIONABLE_KINDS = [
  'runStep',
  'checkStep',
  'postInstructions',
  'transition',
  'escalate',
  'noteHold',
  'hold',
  'requestApproval',
] as const;
export type ActionableDecision = Extract<Decision, { kind: (typeof ACTIONABLE_KINDS)[number] }>;

export function isActionable(decision: Decision): decision is ActionableDecision {
  return (ACTIONABLE_KINDS as readonly string[]).includes(decision.kind);
}
