// A Redfish step: the BMC action where the site gives the bot Redfish access, else its fallback (an
// Action Required comment with the redfishtool commands, or a failure), like an IPMI step.
import {
  redfishtoolCommandLine,
  renderText,
  type RedfishStep,
  type RedfishTarget,
} from '../definitions/index.js';
import type { Decision } from './decision.js';
import { bmcFallback } from './ipmi.js';
import { runningState, type StepPlan } from './plan.js';

const ACTION_TEXT: Record<RedfishStep['action'], string> = {
  'power-status': 'Check the power state of',
  'power-on': 'Power on',
  'power-off': 'Power off',
  'power-cycle': 'Power-cycle',
  'sel-read': 'Read the system event log (SEL) of',
  'sel-clear': 'Clear the system event log (SEL) of',
  'boot-pxe': 'Set a one-time PXE boot on',
  'boot-disk': 'Set a one-time disk boot on',
  health: 'Check the memory and processor health of',
};

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
  if (access === 'none') {
    const action = `${ACTION_TEXT[step.action]} ${host}`;
    return bmcFallback(plan, step, host, action, {
      name: 'Redfish',
      inventoryKey: 'redfish',
      tool: 'redfishtool',
    });
  }
  // A power-cycle or a SEL clear is never repeated on a guess (the log read after would differ).
  const running = runningState(plan, host, step.timeout * CALLS_PER_ACTION, SAFE_TO_REPEAT.has(step.action));
  if ('decision' in running) return running.decision;
  const bmc: RedfishTarget = {
    host,
    address: renderText(access.address, variables),
    port: access.port,
    user: access.user,
    passwordEnv: access.password_env,
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
