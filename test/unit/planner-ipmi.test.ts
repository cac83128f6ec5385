// The planner's IPMI decisions: the BMC action where the site gives the bot IPMI access, the manual
// fallback (the seed's case) where it does not, and the at-most-once guard for power cycles.
import { describe, expect, it } from 'vitest';
import { InventorySchema } from '../../src/definitions/index.js';
import {
  bmcInventory,
  bmcPlanner,
  bmcRunbook,
  bmcWorkflow,
  NO_BMC_HOST,
  NOW,
  running,
} from '../support/bmc-planning.js';

const plan = bmcPlanner({
  runbook: bmcRunbook({
    'power-cycle': { kind: 'ipmi', target: '{{ host }}', action: 'power-cycle', timeout: '2m' },
    'power-check': {
      kind: 'ipmi',
      target: '{{ host }}',
      action: 'power-status',
      expect: { power: 'on' },
      fallback: 'fail',
    },
    'power-on': {
      kind: 'ipmi',
      target: '{{ host }}',
      action: 'power-on',
      title: 'Power on {{ host.short }}',
      instructions: [
        { text: 'From the jump box of {{ site.name }}:', commands: ['bmc-power on {{ host.short }}'] },
      ],
    },
  }),
  workflow: bmcWorkflow({
    'Power Cycle': { step: 'power-cycle', next: 'Memcheck' },
    'Power Check': { step: 'power-check', next: 'Memcheck' },
    'Power On': { step: 'power-on', next: 'Memcheck' },
  }),
  inventory: bmcInventory({
    dev2: {
      ipmi: {
        address: '{{ host.short }}-ipmi.{{ site.name }}.internal',
        user: 'bmc-admin',
        password_env: 'IPMI_PASSWORD_DEV2',
      },
    },
  }),
});

describe('planner: ipmi steps where the site has IPMI access', () => {
  it('runs the action against the BMC named by the inventory template, password by variable name', () => {
    expect(plan({})).toMatchObject({
      kind: 'runStep',
      site: 'dev2',
      step: { name: 'power-cycle', next: 'Memcheck' },
      target: {
        host: 'db-3.dev2.internal',
        address: 'db-3-ipmi.dev2.internal',
        port: 623,
        user: 'bmc-admin',
      },
      commands: ['ipmitool -I lanplus -H db-3-ipmi.dev2.internal -p 623 -U bmc-admin -E chassis power cycle'],
      timeoutSeconds: 120,
      resumed: false,
      ipmi: {
        action: 'power-cycle',
        bmc: {
          host: 'db-3.dev2.internal',
          address: 'db-3-ipmi.dev2.internal',
          port: 623,
          user: 'bmc-admin',
          passwordEnv: 'IPMI_PASSWORD_DEV2',
        },
      },
    });
  });

  it('expects the power state a power-status step asks for', () => {
    expect(plan({ status: 'Power Check' })).toMatchObject({
      kind: 'runStep',
      expect: { exit: 0, output: '^Chassis Power is on$' },
      ipmi: { action: 'power-status' },
    });
  });

  it('does not power-cycle again after an interrupted run; it asks a person', () => {
    const decision = plan(running('Power Cycle', 'power-cycle', 3 * 3600));
    expect(decision).toMatchObject({ kind: 'escalate', title: 'Step power-cycle was interrupted' });
  });

  it('runs an interrupted power-on again, since powering on twice is harmless', () => {
    const decision = plan(running('Power On', 'power-on', 3 * 3600));
    expect(decision).toMatchObject({ kind: 'runStep', resumed: true, ipmi: { action: 'power-on' } });
  });

  it('waits while the power cycle may still be running', () => {
    const ticket = running('Power Cycle', 'power-cycle', 30);
    const since = ticket.bookkeeping?.running?.since;
    expect(plan(ticket)).toMatchObject({
      kind: 'nothing',
      reason: `power-cycle running since ${since}`,
      running: { step: 'power-cycle', status: 'Power Cycle' },
    });
  });
});

describe('planner: ipmi steps where the site has no IPMI access (manual fallback)', () => {
  it('posts default instructions naming the host, the action, the site and where to move the ticket', () => {
    const decision = plan({ inputs: { host: NO_BMC_HOST } });
    expect(decision).toMatchObject({
      kind: 'postInstructions',
      site: 'sm1',
      where: 'the BMC of container-107-05.sm1.internal',
      title: 'Power-cycle container-107-05.sm1.internal',
    });
    const text = decision.kind === 'postInstructions' ? decision.blocks.map((block) => block.text) : [];
    expect(text.join('\n')).toContain('The bot has no IPMI access in site sm1.');
    expect(text.join('\n')).toContain('move this ticket to Memcheck');
  });

  it("renders the step's own instructions, with quoted commands", () => {
    const decision = plan({ status: 'Power On', inputs: { host: NO_BMC_HOST } });
    expect(decision).toMatchObject({
      kind: 'postInstructions',
      title: 'Power on container-107-05',
      blocks: [{ text: 'From the jump box of sm1:', commands: ['bmc-power on container-107-05'] }],
    });
  });

  it('posts the instructions once per visit', () => {
    const decision = plan({
      inputs: { host: NO_BMC_HOST },
      bookkeeping: { status: 'Power Cycle', visit: 3, enteredAt: NOW.toISOString(), instructed: true },
    });
    expect(decision).toEqual({ kind: 'nothing', reason: 'waiting for a person (instructions posted)' });
  });

  it('escalates instead when the step says fallback: fail', () => {
    expect(plan({ status: 'Power Check', inputs: { host: NO_BMC_HOST } })).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: 'No IPMI access for container-107-05.sm1.internal',
    });
  });
});

describe('inventory: ipmi access', () => {
  it('rejects an address template naming anything but the host and site', () => {
    const parsed = InventorySchema.safeParse({
      sites: {
        dev2: {
          hosts: 'x',
          manager: 'm',
          ssh: { user: 'u' },
          ipmi: { address: '{{ ticket.key }}-bmc', user: 'u', password_env: 'P' },
        },
      },
    });
    expect(parsed.success).toBe(false);
  });
});
