// What the steps of the two BMC protocols (ipmi.ts, redfish.ts) share: the words for each action,
// the BMC a site's access names for a host, and what every BMC step falls back to where the site
// gives the bot no access to its BMCs (an Action Required comment, or a failure, as the runbook says).
import {
  renderCommand,
  renderText,
  type BmcTarget,
  type IpmiStep,
  type RedfishStep,
  type TemplateVariables,
} from '../definitions/index.js';
import type { Decision } from './decision.js';
import { escalate, type StepPlan } from './plan.js';

type BmcAction = IpmiStep['action'] | RedfishStep['action'];

/** What a person does for each action, followed by the host: "Power-cycle web-1.dev2.internal". */
const ACTION_TEXT: Record<BmcAction, string> = {
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

/** A site's access to its BMCs as the inventory writes it (`ipmi:` or `redfish:`), the parts both share. */
interface BmcAccess {
  address: string;
  port: number;
  user: string;
  password_env: string;
}

/** The BMC of `host` as the site's access names it (its address template rendered for the host). */
export function bmcOf(host: string, access: BmcAccess, variables: TemplateVariables): BmcTarget {
  return {
    host,
    address: renderText(access.address, variables),
    port: access.port,
    user: access.user,
    passwordEnv: access.password_env,
  };
}

/** How a BMC protocol is named in a fallback's words: the inventory key and the tool a person uses. */
export interface BmcProtocol {
  name: 'IPMI' | 'Redfish';
  inventoryKey: 'ipmi' | 'redfish';
  tool: 'ipmitool' | 'redfishtool';
}

export const IPMI: BmcProtocol = { name: 'IPMI', inventoryKey: 'ipmi', tool: 'ipmitool' };
export const REDFISH: BmcProtocol = { name: 'Redfish', inventoryKey: 'redfish', tool: 'redfishtool' };

/**
 * The seed's case: the bot cannot reach the BMCs of this site (no IPMI or Redfish access in the
 * inventory), so a person is asked to do the step's action, or the step fails, as the runbook says.
 */
export function bmcFallback(
  plan: StepPlan,
  step: Pick<IpmiStep | RedfishStep, 'action' | 'fallback' | 'title' | 'instructions'>,
  host: string,
  protocol: BmcProtocol,
): Decision {
  const { visit, stepRef, variables } = plan;
  const action = `${ACTION_TEXT[step.action]} ${host}`;
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
