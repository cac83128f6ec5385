// A Redfish step: the BMC action where the site gives the bot Redfish access, else the fallback every
// BMC step has (bmc.ts: an Action Required comment, or a failure), like an IPMI step.
import {
  redfishtoolCommandLine,
  renderText,
  type RedfishStep,
  type RedfishTarget,
} from '../definitions/index.js';
import { bmcFallback, bmcOf, REDFISH } from './bmc.js';
import type { Decision } from './decision.js';
import { runningState, type StepPlan } from './plan.js';

/** HTTPS calls one action makes at most (root, login, system, a few members, logout): its budget. */
const CALLS_PER_ACTION = 12;

/** Actions that change nothing, or whose repeat changes nothing: safe to run again after a crash. */
const SAFE_TO_REPEAT = new Set<RedfishStep['action']>([
  'power-status',
  'power-on',
  'power-off',
  'sel-read',
  'boot-pxe',
  'boot-disk',
  'health',
]);

export function planRedfish(plan: StepPlan, step: RedfishStep): Decision {
  const { visit, stepRef, variables } = plan;
  const host = renderText(step.target, variables);
  const access = plan.site.redfish;
  if (access === 'none') return bmcFallback(plan, step, host, REDFISH);
  // A power-cycle or a SEL clear is never repeated on a guess (the log read after would differ).
  const running = runningState(plan, host, step.timeout * CALLS_PER_ACTION, SAFE_TO_REPEAT.has(step.action));
  if ('decision' in running) return running.decision;
  const bmc: RedfishTarget = {
    ...bmcOf(host, access, variables),
    trust: access.fingerprint
      ? { fingerprint: access.fingerprint }
      : access.ca
        ? { ca: access.ca }
        : { system: true },
    ...(access.system ? { system: access.system } : {}),
  };
  return {
    kind: 'runStep',
    transport: 'redfish',
    visit,
    step: stepRef,
    site: plan.site.name,
    target: { host, address: bmc.address, port: bmc.port, user: bmc.user },
    commands: [redfishtoolCommandLine(bmc, step.action)],
    timeoutSeconds: step.timeout,
    resumed: running.resumed,
    expect: {
      exit: 0,
      ...(step.expect ? { output: `^PowerState: ${step.expect.power === 'on' ? 'On' : 'Off'}$` } : {}),
    },
    redfish: { action: step.action, bmc },
  };
}
