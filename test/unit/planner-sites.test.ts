// What the planner takes from the ticket's site: the site name (its queue and caps) and how to
// reach the site's hosts (a jump host when the inventory names one).
import { beforeAll, describe, expect, it } from 'vitest';
import { InventorySchema, loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { jobFor } from '../../src/queue/index.js';
import { isActionable, planTicket, type Decision } from '../../src/planner/index.js';
import { REPO_ROOT } from '../support/definitions.js';

let definitions: Definitions;
beforeAll(async () => {
  definitions = await loadDefinitions({ root: REPO_ROOT });
});

const inventory = InventorySchema.parse({
  sites: {
    sm1: {
      hosts: '\\.sm1\\.internal$',
      manager: 'manager-0.sm1.internal',
      ssh: { user: 'runbot', jump: { host: 'bastion.sm1.internal', port: 2222 } },
    },
  },
});

function plan(status: string, sites = inventory): Decision {
  const workflow = definitions.workflows.get('rma-restore')!;
  return planTicket({
    ticket: {
      key: 'HOT-12',
      status,
      project: 'HOT',
      issueType: 'RMA Restore',
      labels: [],
      inputs: { host: 'container-107-05.sm1.internal' },
      links: [],
      bookkeeping: undefined,
    },
    workflow,
    runbook: definitions.runbooks.get(workflow.runbook)!,
    inventory: sites,
    now: new Date('2026-11-23T12:00:00Z'),
  });
}

describe('planner: sites', () => {
  it('reaches the site through its jump host, as the ssh user unless the jump names one', () => {
    expect(plan('Sync')).toMatchObject({
      kind: 'runStep',
      site: 'sm1',
      target: {
        host: 'manager-0.sm1.internal',
        port: 22,
        user: 'runbot',
        jump: { host: 'bastion.sm1.internal', port: 2222, user: 'runbot' },
      },
    });
  });

  it("puts the site and step in the job, so the poller routes it to the site's queue", () => {
    const decision = plan('Sync');
    if (!isActionable(decision)) throw new Error('expected an actionable decision');
    expect(jobFor(decision)).toMatchObject({ key: 'HOT-12', kind: 'runStep', site: 'sm1', step: 'sync' });
  });

  it('names the site on manual steps too (their comment is posted by a worker of that site)', () => {
    expect(plan('Enable Alerting')).toMatchObject({ kind: 'postInstructions', site: 'sm1' });
  });

  it('carries the site’s SSH transport to the target: openssh when chosen, node-ssh (unset) by default', () => {
    const sm1 = inventory.sites.sm1!;
    const openssh = InventorySchema.parse({
      sites: { sm1: { ...sm1, ssh: { ...sm1.ssh, transport: 'openssh' } } },
    });
    expect(plan('Sync', openssh)).toMatchObject({ kind: 'runStep', target: { transport: 'openssh' } });
    const decision = plan('Sync');
    expect(decision.kind === 'runStep' && 'transport' in decision.target).toBe(false);
    expect(sm1.ssh.transport).toBe('node-ssh');
  });
});
