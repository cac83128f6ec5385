// An IPMI step, and what every BMC step falls back to when the site gives the bot no access to its
// BMCs (an Action Required comment, or a failure, as the runbook says). redfish.ts plans the other
// BMC protocol the same way.
import {
  ipmitoolCommandLine,
  renderCommand,
  renderText,
  type BmcTarget,
  type IpmiStep,
} from '../definitions/index.js';
import type { Decision } from './decision.js';
import { escalate, runningState, type StepPlan } from './plan.js';

const IPMI_ACTION_TEXT: Record<IpmiStep['action'], string> = {
  'power-status': 'Check the power state of',
  'power-on': 'Power on',
  'power-cycle': 'Power-cycle',
  'sel-read': 'Read the system event log (SEL) of',
};

/** An IPMI step: the BMC action where the site gives the bot IPMI access, else its fallback. */
export function planIpmi(plan: StepPlan, step: IpmiStep): Decision {
  const { visit, stepRef, variables } = plan;
  const host = renderText(step.target, variables);
  const access = plan.site.ipmi;
  if (access === 'none') {
    const action = `${IPMI_ACTION_TEXT[step.action]} ${host}`;
    return bmcFallback(plan, step, host, action, { name: 'IPMI', inventoryKey: 'ipmi', tool: 'ipmitool' });
  }
  // Only a power-cycle is unsafe to repeat on a guess: status and SEL only read, power-on is idempotent.
  const running = runningState(plan, host, step.timeout, step.action !== 'power-cycle');
  if ('decision' in running) return running.decision;
  const bmc: BmcTarget = {
    host,
    address: renderText(access.address, variables),
    port: access.port,
    user: access.user,
    passwordEnv: access.password_env,
  };
  return {
    kind: 'runStep',
    transport: 'ipmi',
    visit,
    step: stepRef,
    site: plan.site.name,
    target: { host, address: bmc.address, port: bmc.port, user: bmc.user },
    commands: [ipmitoolCommandLine(bmc, step.action)],
    timeoutSeconds: step.timeout,
    resumed: running.resumed,
    expect: { exit: 0, ...(step.expect ? { output: `^Chassis Power is ${step.expect.power}$` } : {}) },
    ipmi: { action: step.action, bmc },
  };
}

/** How a BMC protocol is named in a fallback's words: the inventory key and the tool a person uses. */
export interface BmcProtocol {
  name: 'IPMI' | 'Redfish';
  inventoryKey: 'ipmi' | 'redfish';
  tool: 'ipmitool' | 'redfishtool';
}

/**
 * The seed's case: the bot cannot reach the BMCs of this site (no IPMI or Redfish access in the
 * inventory), so a person is asked to act, or the step fails, as the runbook says. `action` is what
 * the person does, e.g. "Power-cycle web-1.dev2.internal".
 */
export function bmcFallback(
  plan: StepPlan,
  step: Pick<IpmiStep, 'fallback' | 'title' | 'instructions'>,
  host: string,
  action: string,
  protocol: BmcProtocol,
): Decision {
  const { visit, stepRef, variables } = plan;
  if (step.fallback === 'fail') {
    return escalate(
      visit,
      plan.workflow,
      `No ${protocol.name} access for ${host}`,
      `Step ${stepRef.name} needs the BMC of ${host}, and site ${plan.site.name} gives the bot no ${protocol.name} access (${protocol.inventoryKey}: none in the inventory).`,
      `${action} by hand, then move the ticket to ${stepRef.next}; or add ${protocol.inventoryKey} access for site ${plan.site.name} to the inventory and move it back to ${visit.status}.`,
    );
  }
  if (visit.bookkeeping.instructed)
    return { kind: 'nothing', reason: 'waiting for a person (instructions posted)' };
  const blocks = step.instructions
    ? step.instructions.map((block) => ({
        text: renderText(block.text, variables),
        commands: (block.commands ?? []).map((command) => renderCommand(command, variables)),
      }))
    : [
        {
          text: `The bot has no ${protocol.name} access in site ${plan.site.name}. ${action} through its BMC (web console, or ${protocol.tool} from a machine that can reach it).`,
          commands: [],
        },
        {
          text: `When that is done, move this ticket to ${stepRef.next}; the bot takes it from there.`,
          commands: [],
        },
      ];
  return {
    kind: 'postInstructions',
    visit,
    step: stepRef,
    site: plan.site.name,
    where: `the BMC of ${host}`,
    title: step.title ? renderText(step.title, variables) : action,
    blocks,
  };
}
