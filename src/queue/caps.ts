// Which caps a decision counts against, from the inventory's `caps` and the global setting. Only
// steps that act on machines (runStep: SSH commands or an IPMI action) are capped; checks of a wait
// step only read, and comments and transitions touch Jira alone.
import type { Inventory } from '../definitions/index.js';
import type { Decision } from '../planner/index.js';
import type { CapRule } from './limiter.js';

/** What caps depend on; a Decision and a StepJob both carry it. */
export interface CapSubject {
  kind: Decision['kind'];
  site?: string | undefined;
  /** The runbook step (a job names it as `step`, a decision as `step.name`). */
  step?: string | { name: string } | undefined;
}

export function capsFor(subject: CapSubject, inventory: Inventory, globalCap: number | undefined): CapRule[] {
  if (subject.kind !== 'runStep') return [];
  const rules: CapRule[] = globalCap === undefined ? [] : [{ key: 'global', limit: globalCap }];
  const site = subject.site === undefined ? undefined : inventory.sites[subject.site];
  if (subject.site === undefined || site?.caps === undefined) return rules;
  const { per_site: perSite, per_step: perStep } = site.caps;
  if (perSite !== undefined) rules.push({ key: `site:${subject.site}`, limit: perSite });
  const step = typeof subject.step === 'string' ? subject.step : subject.step?.name;
  const stepCap = step === undefined ? undefined : perStep?.[step];
  if (stepCap !== undefined) rules.push({ key: `step:${subject.site}:${step}`, limit: stepCap });
  return rules;
}
