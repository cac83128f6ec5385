// Redfish steps through the whole service: the Jira sandbox, a real redis-server, the simulated
// Redfish BMC over HTTPS. A site with Redfish access gets the action done and the ticket moved; a
// site without it gets the manual fallback; a wrong password, an untrusted certificate and an
// unreachable BMC send the ticket to a person with a comment that says why and what to run by hand.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBmcCertificate, RedfishSimulator } from '../../src/sandbox/redfish/index.js';
import { until } from '../support/poll.js';
import { inventorySite, startWorld, type World } from '../support/world.js';

describe('redfish steps in the service', () => {
  let sim: RedfishSimulator;
  let world: World | undefined;
  let otherFingerprint: string;

  beforeAll(async () => {
    sim = new RedfishSimulator();
    await sim.start();
    otherFingerprint = (await makeBmcCertificate()).fingerprint;
    const closed = await closedPort();
    const site = (name: string, redfish: string) => inventorySite(name, { redfish });
    const access = (fields: string) =>
      `{ address: 127.0.0.1, port: ${sim.port}, user: ${sim.user}, ${fields} }`;
    world = await startWorld({
      name: 'bmc',
      steps: `
power-cycle:
  kind: redfish
  target: '{{ host }}'
  action: power-cycle
  timeout: 10s
  title: Power-cycle {{ host }}
  instructions:
    - text: 'Power-cycle {{ host }} from its BMC web console, then check it boots.'
memory-health:
  kind: redfish
  target: '{{ host }}'
  action: health
  timeout: 10s
`,
      workflow: `statuses:
  Power Cycle: { step: power-cycle, next: Memory Health }
  Memory Health: { step: memory-health, next: Done }
`,
      inventory: `sites:
${site('lab', access(`password_env: RUNBOT_TEST_REDFISH, fingerprint: '${sim.fingerprint}'`))}${site('ca', access('password_env: RUNBOT_TEST_REDFISH, ca: bmc-ca.pem'))}${site('wrong', access(`password_env: RUNBOT_TEST_REDFISH_WRONG, fingerprint: '${sim.fingerprint}'`))}${site('other', access(`password_env: RUNBOT_TEST_REDFISH, fingerprint: '${otherFingerprint}'`))}${site('gone', `{ address: 127.0.0.1, port: ${closed}, user: admin, password_env: RUNBOT_TEST_REDFISH, fingerprint: '${sim.fingerprint}' }`)}${site('sm1', 'none')}`,
      files: { 'workflows/bmc-ca.pem': sim.certificatePem },
      processEnv: {
        RUNBOT_TEST_REDFISH: sim.password,
        RUNBOT_TEST_REDFISH_WRONG: 'not-the-password',
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
  const resets = () => sim.calls().filter((call) => call.path.endsWith('/Actions/ComputerSystem.Reset'));

  it('power-cycles the host through its pinned BMC, checks memory and CPU health, and reaches Done', async () => {
    const key = await seed('db-3.lab.internal');
    await until('Done', () => world!.status(key) === 'Done');
    expect(resets().map((call) => call.body)).toEqual([{ ResetType: 'PowerCycle' }]);
    const [cycled] = comments(key).filter((text) => text.includes('power-cycle done'));
    expect(cycled).toContain(
      `redfishtool -r 127.0.0.1:${sim.port} -u admin -p "$RUNBOT_TEST_REDFISH" -S Always -A Session Systems -1 reset PowerCycle`,
    );
    expect(cycled).toContain('ComputerSystem.Reset ResetType=PowerCycle: accepted');
    const [healthy] = comments(key).filter((text) => text.includes('memory-health done'));
    expect(healthy).toContain('Memory DIMM1: OK (Enabled)');
    expect(healthy).toContain('Health: OK');
    expect(sim.openSessions()).toBe(0);
  });

  it('trusts a BMC through the CA file the inventory names, and fails the health step on a bad DIMM', async () => {
    sim.setHealth('memory', 'DIMM1', 'Critical');
    try {
      const key = await seed('db-5.ca.internal');
      await until('Actionable', () => world!.status(key) === 'Actionable');
      expect(comments(key).some((text) => text.includes('power-cycle done'))).toBe(true);
      const [failed] = comments(key).filter((text) => text.includes('memory-health failed'));
      expect(failed).toContain('Memory DIMM1 is Critical.');
    } finally {
      sim.setHealth('memory', 'DIMM1', 'OK');
    }
  });

  it('posts the manual fallback where the site has no Redfish access, once', async () => {
    const before = sim.calls().length;
    const key = await seed('container-107-05.sm1.internal');
    const posted = await until('the Action Required comment', () =>
      comments(key).find((text) => text.includes('Action Required')),
    );
    expect(posted).toContain('Power-cycle container-107-05.sm1.internal');
    expect(posted).toContain('from its BMC web console');
    await world!.pollCycles(2);
    expect(comments(key).filter((text) => text.includes('Action Required'))).toHaveLength(1);
    expect(world!.status(key)).toBe('Power Cycle');
    expect(sim.calls()).toHaveLength(before);
  });

  it('sends the ticket to a person when the BMC refuses the password, naming the variable, not the value', async () => {
    const key = await seed('db-4.wrong.internal');
    await until('Actionable', () => world!.status(key) === 'Actionable');
    const [failed] = comments(key).filter((text) => text.includes('failed'));
    expect(failed).toContain('$RUNBOT_TEST_REDFISH_WRONG');
    expect(failed).toContain('HTTP 401 on session login');
    expect(failed).toContain('To do the step by hand');
    expect(failed).not.toContain('not-the-password');
  });

  it('refuses a BMC whose certificate is not the pinned one, and sends it nothing', async () => {
    const before = resets().length;
    const key = await seed('db-6.other.internal');
    await until('Actionable', () => world!.status(key) === 'Actionable');
    const [failed] = comments(key).filter((text) => text.includes('failed'));
    expect(failed).toContain(`It offered SHA-256 ${sim.fingerprint}`);
    expect(failed).toContain(`not the pinned certificate (redfish.fingerprint ${otherFingerprint})`);
    expect(resets()).toHaveLength(before);
  });

  it('retries an unreachable BMC, then hands the ticket to a person with the command to run by hand', async () => {
    const key = await seed('db-7.gone.internal');
    await until('Actionable', () => world!.status(key) === 'Actionable', { timeoutMs: 60_000 });
    const [failed] = comments(key).filter((text) => text.includes('failed'));
    expect(failed).toContain('could not be reached (ECONNREFUSED)');
    expect(failed).toContain('-S Always -A Session Systems -1 reset PowerCycle');
  });
});

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
