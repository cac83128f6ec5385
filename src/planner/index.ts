// The planner: pure decisions from Jira's view of a ticket. Nothing here does I/O.
export * from './ticket.js';
export * from './decision.js';
export * from './actionable.js';
export * as bookkeeping from './bookkeeping.js';
export { planTicket, planRoute, type PlanInput } from './plan.js';
export {
  breakerKey,
  breakerLimits,
  holdOf,
  holdMark,
  type Hold,
  type HoldSubject,
  type OpenBreaker,
  type OpenBreakers,
} from './holds.js';
export { siteClosed, type SiteClosed } from './windows.js';
export * from './exclusive.js';
export { planHash } from './approval.js';
