// An IPMI step: the BMC action where the site gives the bot IPMI access, else the fallback every BMC
// step has (bmc.ts). redfish.ts plans the other BMC protocol the same way.
import { ipmitoolCommandLine, renderText, type IpmiStep } from '../definitions/index.js';
import { bmcFallback, bmcOf, IPMI } from './bmc.js';
import type { Decision } from './decision.js';
import { runningState, type StepPlan } from './plan.js';

/** An IPMI step: the BMC action where the site gives the bot IPMI access, else its fallback. */
export function planIpmi(plan: StepPlan, step: IpmiStep): Decision {
  const { visit, stepRef, variables } = plan;
  const host = renderText(step.target, variables);
  const access = plan.site.ipmi;
  if (access === 'none') return bmcFallback(plan, step, host, IPMI);
  // Only a power-cycle is unsafe to repeat on a guess: status and SEL only read, power-on is idempotent.
  const running = runningState(plan, host, step.timeout, step.action !== 'power-cycle');
  if ('decision' in running) return running.decision;
  const bmc = bmcOf(host, access, variables);
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
