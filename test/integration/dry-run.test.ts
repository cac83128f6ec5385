// RUNBOT_DRY_RUN over the real parts: the service plans a ticket and comments the whole route it
// would take, yet nothing runs — checked on the servers' side (sshd's logins, the files its commands
// would write, ipmi_sim's chassis control) — and the ticket does not move.
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIpmiSim, type IpmiSim } from '../support/ipmi.js';
import { until } from '../support/poll.js';
import { memcheckSteps } from '../support/runbooks.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const HOST = 'web-1.dry.internal';
const MANAGER = 'manager-0.dry.internal';

describe('dry run: plans and comments, runs nothing', () => {
  let sim: IpmiSim;
  let world: World | undefined;
  let key: string;

  beforeAll(async () => {
    sim = await startIpmiSim();
    world = await startWorld({
      name: 'dry',
      steps: ({ work }) => `
power-cycle:
  kind: ipmi
  target: '{{ host }}'
  action: power-cycle
${memcheckSteps(work, 'started')}
sync:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['echo sync {{ host.short }} >> ${work}/manager.log']
  timeout: 20s
`,
      workflow: `statuses:
  Power Cycle: { step: power-cycle, next: Memcheck }
  Memcheck: { step: memcheck-start, next: Memcheck Running }
  Memcheck Running: { step: memcheck-wait, next: Sync }
  Sync: { step: sync, next: Done }
`,
      sshd: { knownHostsNames: [HOST, MANAGER] },
      inventory: ({ sshd }) => `sites:
  dry:
    hosts: '\\.dry\\.internal$'
    manager: ${MANAGER}
    ssh: ${sshOf(sshd)}
    ipmi: { address: ${sim.address}, port: ${sim.port}, user: ${sim.user}, password_env: RUNBOT_TEST_IPMI_PASSWORD }
`,
      processEnv: { RUNBOT_TEST_IPMI_PASSWORD: sim.password },
      env: { RUNBOT_DRY_RUN: 'true' },
      roles: false,
    });
    // The ticket is there before the service first polls.
    key = (await world.seed(HOST)).key;
    await world.startService();
  });
  afterAll(async () => {
    await world?.stop();
    await sim?.stop();
  });

  it('comments the full plan once, and nothing runs on the SSH host or the BMC', async () => {
    const w = world!;
    const sshd = w.sshd!;
    const [plan] = await until('the dry-run comment', () => {
      const found = w.comments(key).filter((text) => text.includes('Dry run'));
      return found.length > 0 ? found : undefined;
    });
    // The poller keeps planning the ticket; the comment stays a single one.
    await w.pollCycles(3);
    expect(w.comments(key).filter((text) => text.includes('Dry run'))).toHaveLength(1);

    // The whole route, in order: the BMC action, then each step's commands on their hosts.
    const route = [
      'Power Cycle:',
      `power-cycle ${HOST} over IPMI (BMC 127.0.0.1:${sim.port})`,
      `$ ipmitool -I lanplus -H 127.0.0.1 -p ${sim.port} -U runbot -E chassis power cycle`,
      'Memcheck:',
      `run memcheck-start on ${sshd.user}@${HOST}:${sshd.port}`,
      `$ echo started > ${w.work}/memtest-web-1`,
      'Memcheck Running:',
      `check memcheck-wait on ${HOST}`,
      'Sync:',
      `run sync on ${sshd.user}@${MANAGER}:${sshd.port}`,
      'then move to Done',
    ];
    let at = -1;
    for (const line of route) {
      const found = plan!.indexOf(line, at + 1);
      expect(found, `"${line}" after position ${at} in:\n${plan}`).toBeGreaterThan(at);
      at = found;
    }
    expect(plan).not.toContain(sim.password);

    // Nothing ran: sshd accepted no login, no command left its file, the BMC saw no chassis control.
    expect(sshd.acceptedLogins()).toBe(0);
    expect(await readdir(w.work)).toEqual([]);
    expect((await sim.controlCalls()).filter((call) => call.startsWith('set'))).toEqual([]);
    // And the ticket did not move.
    expect(w.status(key)).toBe('Power Cycle');
  });
});
