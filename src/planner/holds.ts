// What holds a step back though its ticket is ready: an open failure-rate breaker of its site and
// step, a freeze, or a closed maintenance window of its site. Pure: the open breakers come in as data
// (the worker and the poller read them from Redis), and the time as `now`.
//
// Held: a new start of a step that acts on machines (runStep: SSH commands, an IPMI or Redfish action,
// also a resumed one), and, for windows and freezes only, an Action Required comment (a person would act on
// the site's machines). Not held: checks of a wait step already running, gate moves and escalations
// (they touch Jira only), and a step already running (it finishes).
import type { Inventory } from '../definitions/index.js';
import type { BreakerLimitsValue } from '../definitions/site-safety.js';
import type { Decision, StepRef, StepVisit } from './decision.js';
import { siteClosed } from './windows.js';

/** A breaker is closed by default at 3 failures of the last 5 runs (inventory `breaker`). */
const DEFAULT_BREAKER: BreakerLimitsValue = { failures: 3, window: 5 };

/** An open breaker, as the worker that tripped it recorded it. */
export interface OpenBreaker {
  failures: number;
  window: number;
  /** When it opened (ISO 8601, UTC). */
  since: string;
  /** The tickets whose failed runs are in the window, oldest first. */
  tickets: string[];
}

/** Open breakers by `site/step`. */
export type OpenBreakers = Readonly<Record<string, OpenBreaker>>;

export interface Hold {
  kind: 'breaker' | 'window' | 'freeze';
  site: string;
  step: string;
  /** For people and `runbot status`: "breaker open for dev2/sync", "outside maintenance window of …". */
  reason: string;
  /** When the hold ends by itself (windows and freezes), ISO 8601. */
  until?: string;
}

export function breakerKey(site: string, step: string): string {
  return `${site}/${step}`;
}

/** The breaker limits of a step at a site: per step, else the site's, else the inventory's; undefined when off. */
export function breakerLimits(
  inventory: Inventory,
  site: string,
  step: string,
): BreakerLimitsValue | undefined {
  const top = inventory.breaker ?? DEFAULT_BREAKER;
  const own = inventory.sites[site]?.breaker;
  if (own === 'off') return undefined;
  const perStep = own?.per_step?.[step];
  if (perStep === 'off') return undefined;
  if (perStep) return perStep;
  if (top === 'off' && own?.failures === undefined && own?.window === undefined) return undefined;
  const base = top === 'off' ? DEFAULT_BREAKER : top;
  const limits = { failures: own?.failures ?? base.failures, window: own?.window ?? base.window };
  return { failures: Math.min(limits.failures, limits.window), window: limits.window };
}

/** What a job or decision needs to be checked for holds. */
export interface HoldSubject {
  kind: Decision['kind'];
  site?: string | undefined;
  /** The runbook step (a job names it as `step`, a decision as `step.name`). */
  step?: string | { name: string } | undefined;
}

/** The hold on a step start, if any: an open breaker first, then a freeze or a closed window. */
export function holdOf(
  subject: HoldSubject,
  inventory: Inventory,
  openBreakers: OpenBreakers,
  now: Date,
): Hold | undefined {
  if (subject.kind !== 'runStep' && subject.kind !== 'postInstructions') return undefined;
  const site = subject.site;
  const step = typeof subject.step === 'string' ? subject.step : subject.step?.name;
  if (site === undefined || step === undefined) return undefined;
  const open = subject.kind === 'runStep' ? openBreakers[breakerKey(site, step)] : undefined;
  if (open) {
    return {
      kind: 'breaker',
      site,
      step,
      reason: `breaker open for ${breakerKey(site, step)}: ${open.failures} of the last ${open.window} runs failed`,
    };
  }
  const siteDefinition = inventory.sites[site];
  const closed = siteDefinition ? siteClosed(site, siteDefinition, now) : undefined;
  if (!closed) return undefined;
  return {
    kind: closed.kind,
    site,
    step,
    reason: closed.reason,
    ...(closed.until ? { until: closed.until.toISOString() } : {}),
  };
}

/** The bookkeeping mark of a hold the ticket was told about (one comment per visit). */
export function holdMark(hold: Hold): string {
  return `${hold.kind} ${breakerKey(hold.site, hold.step)}`;
}

/**
 * The planner's last word on a step decision: held back, it becomes `nothing` with the hold, or —
 * for a breaker the ticket was not yet told about in this visit — a `noteHold` that comments once.
 */
export function heldBack(
  decision: Decision,
  visit: StepVisit,
  inventory: Inventory,
  openBreakers: OpenBreakers,
  now: Date,
): Decision {
  if (decision.kind !== 'runStep' && decision.kind !== 'postInstructions') return decision;
  const hold = holdOf(decision, inventory, openBreakers, now);
  if (!hold) return decision;
  if (hold.kind === 'breaker' && visit.bookkeeping.held !== holdMark(hold)) {
    const step: StepRef = decision.step;
    const open = openBreakers[breakerKey(hold.site, hold.step)];
    return { kind: 'noteHold', visit, step, site: hold.site, hold, tickets: open?.tickets ?? [] };
  }
  return { kind: 'nothing', reason: hold.reason, hold };
}
