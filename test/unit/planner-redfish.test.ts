// The planner's Redfish decisions: the BMC action (with the certificate trust the inventory names)
// where the site gives the bot Redfish access, the manual fallback where it does not, and the
// at-most-once guard for the actions that are not safe to repeat on a guess.
import { describe, expect, it } from 'vitest';
import { InventorySchema } from '../../src/definitions/index.js';
import { armedBreakers } from '../../src/runner/holds.js';
import {
  bmcInventory,
  bmcPlanner,
  bmcRunbook,
  bmcWorkflow,
  loadedBmcRunbook,
  NO_BMC_HOST,
  running,
} from '../support/bmc-planning.js';

const FINGERPRINT = Array.from({ length: 32 }, (_, index) =>
  (index * 7).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

const plan = bmcPlanner({
  runbook: bmcRunbook({
    'power-cycle': { kind: 'redfish', target: '{{ host }}', action: 'power-cycle', timeout: '30s' },
    'power-check': {
      kind: 'redfish',
      target: '{{ host }}',
      action: 'power-status',
      expect: { power: 'off' },
      fallback: 'fail',
    },
    health: { kind: 'redfish', target: '{{ host }}', action: 'health' },
    'sel-clear': { kind: 'redfish', target: '{{ host }}', action: 'sel-clear' },
  }),
  workflow: bmcWorkflow({
    'Power Cycle': { step: 'power-cycle', next: 'Memcheck' },
    'Power Check': { step: 'power-check', next: 'Memcheck' },
    'Memory Health': { step: 'health', next: 'Sync' },
    'Clear SEL': { step: 'sel-clear', next: 'Sync' },
  }),
  inventory: bmcInventory({
    dev2: {
      redfish: {
        address: '{{ host.short }}-bmc.{{ site.name }}.internal',
        user: 'root',
        password_env: 'REDFISH_PASSWORD_DEV2',
        fingerprint: FINGERPRINT,
      },
    },
    dev3: {
      redfish: {
        address: '{{ host.short }}-bmc',
        port: 8443,
        user: 'root',
        password_env: 'BMC3',
        ca: '/etc/runbot/bmc-ca.pem',
        system: 'System.Embedded.1',
      },
    },
  }),
});

/** Began three hours ago and never finished. */
const interrupted = (status: string, step: string) => running(status, step, 3 * 3600);

describe('planner: redfish steps where the site has Redfish access', () => {
  it('runs the action against the BMC the inventory names, pinned by fingerprint, password by variable name', () => {
    expect(plan({})).toMatchObject({
      kind: 'runStep',
      site: 'dev2',
      step: { name: 'power-cycle', next: 'Memcheck' },
      target: { host: 'db-3.dev2.internal', address: 'db-3-bmc.dev2.internal', port: 443, user: 'root' },
      commands: [
        'redfishtool -r db-3-bmc.dev2.internal:443 -u root -p "$REDFISH_PASSWORD_DEV2" -S Always -A Session Systems -1 reset PowerCycle',
      ],
      timeoutSeconds: 30,
      resumed: false,
      redfish: {
        action: 'power-cycle',
        bmc: {
          host: 'db-3.dev2.internal',
          address: 'db-3-bmc.dev2.internal',
          port: 443,
          user: 'root',
          passwordEnv: 'REDFISH_PASSWORD_DEV2',
          trust: { fingerprint: FINGERPRINT },
        },
      },
    });
  });

  it('trusts a CA file and addresses the named system where the inventory says so', () => {
    expect(plan({ inputs: { host: 'db-1.dev3.internal' }, status: 'Memory Health' })).toMatchObject({
      kind: 'runStep',
      commands: [
        'redfishtool -r db-1-bmc:8443 -u root -p "$BMC3" -S Always -A Session Systems -I System.Embedded.1 Processors -a',
      ],
      redfish: {
        action: 'health',
        bmc: { trust: { ca: '/etc/runbot/bmc-ca.pem' }, system: 'System.Embedded.1' },
      },
    });
  });

  it('expects the power state a power-status step asks for', () => {
    expect(plan({ status: 'Power Check' })).toMatchObject({
      kind: 'runStep',
      expect: { exit: 0, output: '^PowerState: Off$' },
      redfish: { action: 'power-status' },
    });
  });

  it('does not power-cycle or clear the SEL again after an interrupted run; it asks a person', () => {
    expect(plan(interrupted('Power Cycle', 'power-cycle'))).toMatchObject({
      kind: 'escalate',
      title: 'Step power-cycle was interrupted',
    });
    expect(plan(interrupted('Clear SEL', 'sel-clear'))).toMatchObject({
      kind: 'escalate',
      title: 'Step sel-clear was interrupted',
    });
  });

  it('runs an interrupted health check again, since it only reads', () => {
    expect(plan(interrupted('Memory Health', 'health'))).toMatchObject({ kind: 'runStep', resumed: true });
  });
});

describe('planner: redfish steps where the site has no Redfish access (manual fallback)', () => {
  it('posts default instructions naming the host, the action, the site and where to move the ticket', () => {
    const decision = plan({ inputs: { host: NO_BMC_HOST } });
    expect(decision).toMatchObject({
      kind: 'postInstructions',
      site: 'sm1',
      where: 'the BMC of container-107-05.sm1.internal',
      title: 'Power-cycle container-107-05.sm1.internal',
    });
    const text = decision.kind === 'postInstructions' ? decision.blocks.map((block) => block.text) : [];
    expect(text.join('\n')).toContain('The bot has no Redfish access in site sm1.');
    expect(text.join('\n')).toContain('move this ticket to Memcheck');
  });

  it('escalates instead when the step says fallback: fail', () => {
    expect(plan({ status: 'Power Check', inputs: { host: NO_BMC_HOST } })).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: 'No Redfish access for container-107-05.sm1.internal',
    });
  });
});

describe('the breakers /metrics shows for Redfish steps', () => {
  it('arms a breaker for every site and Redfish step, as for SSH and IPMI ones', () => {
    const runbook = bmcRunbook({
      'power-cycle': { kind: 'redfish', target: '{{ host }}', action: 'power-cycle', timeout: '30s' },
      sync: { kind: 'ssh', target: '{{ host }}', commands: ['true'], timeout: '1m' },
      ask: { kind: 'manual', target: '{{ host }}', title: 'Ask', instructions: [{ text: 'Ask a person.' }] },
    });
    const inventory = InventorySchema.parse({
      sites: { dev2: { hosts: 'x', manager: 'm', ssh: { user: 'r' }, breaker: { failures: 1, window: 1 } } },
    });
    const runbooks = new Map([['bmc', loadedBmcRunbook(runbook)]]);
    expect(armedBreakers({ inventory, runbooks }).sort()).toEqual(['dev2/power-cycle', 'dev2/sync']);
  });
});
