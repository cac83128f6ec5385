// IPMI steps through the whole service: the Jira sandbox, a real redis-server, ipmi_sim as the BMC.
// A site with IPMI access gets the action done and the ticket moved; a site without it gets the
// manual fallback as an Action Required comment; a wrong password sends the ticket to a person.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIpmiSim, type IpmiSim } from '../support/ipmi.js';
import { until } from '../support/poll.js';
import { inventorySite, startWorld, type World } from '../support/world.js';

describe('ipmi steps in the service', () => {
  let sim: IpmiSim;
  let world: World | undefined;

  beforeAll(async () => {
    sim = await startIpmiSim();
    const ipmi = (user: string, variable: string) =>
      `{ address: ${sim.address}, port: ${sim.port}, user: ${user}, password_env: ${variable} }`;
    world = await startWorld({
      name: 'bmc',
      steps: `
power-cycle:
  kind: ipmi
  target: '{{ host }}'
  action: power-cycle
  timeout: 30s
  title: Power-cycle {{ host }}
  instructions:
    - text: 'Power-cycle {{ host }} from its BMC web console, then check it boots.'
`,
      workflow: `statuses:
  Power Cycle: { step: power-cycle, next: Done }
`,
      inventory: [
        'sites:\n',
        inventorySite('lab', { ipmi: ipmi(sim.user, 'RUNBOT_TEST_BMC_PASSWORD') }),
        inventorySite('wrong', { ipmi: ipmi(sim.user, 'RUNBOT_TEST_BMC_WRONG') }),
        inventorySite('sm1', { ipmi: 'none' }),
      ].join(''),
      processEnv: {
        RUNBOT_TEST_BMC_PASSWORD: sim.password,
        RUNBOT_TEST_BMC_WRONG: 'not-the-password',
      },
      logLevel: 'silent',
    });
  });
  afterAll(async () => {
    await world?.stop();
    await sim?.stop();
  });

  const seed = async (host: string) => (await world!.seed(host)).key;
  const comments = (key: string) => world!.comments(key);

  it('power-cycles the host through its BMC and moves the ticket on', async () => {
    await sim.setPower('on');
    const key = await seed('db-3.lab.internal');
    await until('Done', () => world!.status(key) === 'Done');
    expect(await sim.controlCalls()).toContain('set power 0');
    const [done] = comments(key).filter((text) => text.includes('power-cycle done'));
    expect(done).toContain(
      `ipmitool -I lanplus -H 127.0.0.1 -p ${sim.port} -U runbot -E chassis power cycle`,
    );
    expect(done).toContain('Chassis Power Control: Cycle');
    // ipmi_sim finishes a cycle on its own a moment later (get power, set power 1): wait for it, so
    // the next test's count of BMC calls starts from a quiet BMC.
    await until('the BMC to power the host back on', async () =>
      (await sim.controlCalls()).includes('set power 1'),
    );
    expect(await sim.power()).toBe('on');
  });

  it('posts the manual fallback where the site has no IPMI access, once', async () => {
    const before = await sim.controlCalls();
    const key = await seed('container-107-05.sm1.internal');
    const posted = await until('the Action Required comment', () =>
      comments(key).find((text) => text.includes('Action Required')),
    );
    expect(posted).toContain('Power-cycle container-107-05.sm1.internal');
    expect(posted).toContain('from its BMC web console');
    await world!.pollCycles(2);
    expect(comments(key).filter((text) => text.includes('Action Required'))).toHaveLength(1);
    expect(world!.status(key)).toBe('Power Cycle');
    expect(await sim.controlCalls()).toEqual(before);
  });

  it('sends the ticket to a person when the BMC refuses the password, naming the variable, not the value', async () => {
    const key = await seed('db-4.wrong.internal');
    await until('Actionable', () => world!.status(key) === 'Actionable');
    const [failed] = comments(key).filter((text) => text.includes('failed'));
    expect(failed).toContain('$RUNBOT_TEST_BMC_WRONG');
    expect(failed).not.toContain('not-the-password');
  });
});
