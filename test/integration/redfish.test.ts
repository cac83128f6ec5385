// The Redfish executor against the simulated BMC over real HTTPS on loopback: each action, the
// certificate checks (pinned, CA, mismatch), a refused or missing password, an unreachable BMC and a
// call that gets no answer in time.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedfishAuthError,
  RedfishCertificateError,
  RedfishPasswordMissingError,
  RedfishRunner,
  RedfishUnreachableError,
  type RedfishTarget,
} from '../../src/executors/redfish/index.js';
import { makeBmcCertificate, RedfishSimulator } from '../../src/sandbox/redfish/index.js';

const PASSWORD_ENV = 'REDFISH_PASSWORD_TEST';
const TIMEOUT = { timeoutSeconds: 10 };

let sim: RedfishSimulator;
let runner: RedfishRunner;
let bmc: RedfishTarget;
let dir: string;

beforeAll(async () => {
  sim = new RedfishSimulator();
  await sim.start();
  dir = await mkdtemp(path.join(tmpdir(), 'runbot-redfish-test-'));
  runner = new RedfishRunner({ env: { [PASSWORD_ENV]: sim.password } });
  bmc = {
    host: 'db-3.dev2.internal',
    address: '127.0.0.1',
    port: sim.port,
    user: sim.user,
    passwordEnv: PASSWORD_ENV,
    trust: { fingerprint: sim.fingerprint },
  };
});
afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('redfish executor: actions against the simulated BMC', () => {
  it('reads the power state, and logs its session out', async () => {
    sim.setPower('Off');
    const result = await runner.run(bmc, 'power-status', TIMEOUT);
    expect(result).toMatchObject({ exitCode: 0, power: 'off', timedOut: false });
    expect(result.stdout).toMatch(/^PowerState: Off$/m);
    expect(result.problem).toBeUndefined();
    expect(result.command).toBe(
      `redfishtool -r 127.0.0.1:${sim.port} -u admin -p "$${PASSWORD_ENV}" -S Always -A Session Systems -1 get`,
    );
    expect(sim.openSessions()).toBe(0);
    expect(sim.calls().at(-1)).toMatchObject({ method: 'DELETE', status: 204 });
  });

  it('powers on with ResetType On, and sends nothing when it is already on', async () => {
    sim.setPower('Off');
    const on = await runner.run(bmc, 'power-on', TIMEOUT);
    expect(on).toMatchObject({ exitCode: 0, power: 'on' });
    expect(sim.state.power).toBe('On');
    const again = await runner.run(bmc, 'power-on', TIMEOUT);
    expect(again.stdout).toContain('already; no reset sent');
    expect(resets()).toEqual([{ ResetType: 'On' }]);
  });

  it('powers off with ForceOff and cycles with PowerCycle', async () => {
    const before = resets().length;
    expect((await runner.run(bmc, 'power-off', TIMEOUT)).power).toBe('off');
    expect(sim.state.power).toBe('Off');
    sim.setPower('On');
    const cycle = await runner.run(bmc, 'power-cycle', TIMEOUT);
    expect(cycle.exitCode).toBe(0);
    expect(cycle.stdout).toContain('ComputerSystem.Reset ResetType=PowerCycle: accepted');
    expect(resets().slice(before)).toEqual([{ ResetType: 'ForceOff' }, { ResetType: 'PowerCycle' }]);
  });

  it('sets a one-time boot override to PXE, then to disk, and reads it back', async () => {
    const pxe = await runner.run(bmc, 'boot-pxe', TIMEOUT);
    expect(pxe.stdout).toContain('BootSourceOverrideTarget: Pxe');
    expect(sim.state.boot).toEqual({ target: 'Pxe', enabled: 'Once' });
    await runner.run(bmc, 'boot-disk', TIMEOUT);
    expect(sim.state.boot).toEqual({ target: 'Hdd', enabled: 'Once' });
  });

  it('reads the SEL entries, then clears the SEL', async () => {
    const read = await runner.run(bmc, 'sel-read', TIMEOUT);
    expect(read.stdout).toContain('2 entries in /redfish/v1/Systems/1/LogServices/SEL');
    expect(read.stdout).toContain('Critical | Memory DIMM1 uncorrectable ECC error');
    const cleared = await runner.run(bmc, 'sel-clear', TIMEOUT);
    expect(cleared.exitCode).toBe(0);
    expect(sim.state.sel).toEqual([]);
    expect((await runner.run(bmc, 'sel-read', TIMEOUT)).stdout).toContain('0 entries');
  });

  it('reports the health of memory and processors, and a problem for a DIMM that is not OK', async () => {
    const healthy = await runner.run(bmc, 'health', TIMEOUT);
    expect(healthy).toMatchObject({ exitCode: 0 });
    expect(healthy.stdout).toContain('Memory DIMM1: OK (Enabled)');
    expect(healthy.stdout).toContain('Memory DIMM2: absent');
    expect(healthy.stdout).toContain('Processors CPU1: OK (Enabled)');
    sim.setHealth('memory', 'DIMM1', 'Critical');
    const sick = await runner.run(bmc, 'health', TIMEOUT);
    expect(sick).toMatchObject({ exitCode: 1, problem: 'Memory DIMM1 is Critical' });
    sim.setHealth('memory', 'DIMM1', 'OK');
  });
});

describe('redfish executor: trust, credentials and reachability', () => {
  it('refuses a BMC whose certificate is not the pinned one, naming both fingerprints, and sends nothing', async () => {
    const other = await makeBmcCertificate();
    const calls = sim.calls().length;
    const error = await runner
      .run({ ...bmc, trust: { fingerprint: other.fingerprint } }, 'power-cycle', TIMEOUT)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedfishCertificateError);
    expect((error as Error).message).toContain(`It offered SHA-256 ${sim.fingerprint}`);
    expect((error as Error).message).toContain(other.fingerprint);
    expect(sim.calls()).toHaveLength(calls);
  });

  it('accepts the pinned fingerprint written in lower case without colons', async () => {
    const pinned = sim.fingerprint.replaceAll(':', '').toLowerCase();
    const result = await runner.run({ ...bmc, trust: { fingerprint: pinned } }, 'power-status', TIMEOUT);
    expect(result.exitCode).toBe(0);
  });

  it('checks the certificate against a CA file, and refuses one that does not chain to it', async () => {
    const ca = path.join(dir, 'bmc-ca.pem');
    await writeFile(ca, sim.certificatePem);
    expect((await runner.run({ ...bmc, trust: { ca } }, 'power-status', TIMEOUT)).exitCode).toBe(0);
    const otherCa = path.join(dir, 'other-ca.pem');
    await writeFile(otherCa, (await makeBmcCertificate()).cert);
    await expect(runner.run({ ...bmc, trust: { ca: otherCa } }, 'power-status', TIMEOUT)).rejects.toThrow(
      /does not verify against the CA in redfish.ca/,
    );
  });

  it('refuses a self-signed certificate when neither a fingerprint nor a CA is given', async () => {
    await expect(
      runner.run({ ...bmc, trust: { system: true } }, 'power-status', TIMEOUT),
    ).rejects.toBeInstanceOf(RedfishCertificateError);
  });

  it('names the password variable, never the value, when the BMC refuses the login', async () => {
    const wrong = new RedfishRunner({ env: { [PASSWORD_ENV]: 'not-the-password' } });
    const error = await wrong.run(bmc, 'power-cycle', TIMEOUT).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedfishAuthError);
    expect((error as Error).message).toContain(`$${PASSWORD_ENV}`);
    expect((error as Error).message).toContain('HTTP 401');
    expect((error as Error).message).not.toContain('not-the-password');
  });

  it('says which variable is missing before it contacts the BMC', async () => {
    const calls = sim.calls().length;
    await expect(new RedfishRunner({ env: {} }).run(bmc, 'power-status', TIMEOUT)).rejects.toBeInstanceOf(
      RedfishPasswordMissingError,
    );
    expect(sim.calls()).toHaveLength(calls);
  });

  it('reports an unreachable BMC as such', async () => {
    const closed = await closedPort();
    const error = await runner
      .run({ ...bmc, port: closed }, 'power-status', TIMEOUT)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedfishUnreachableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('stops a call that gets no answer within the timeout, and says which call', async () => {
    sim.stall(/\/Systems\/1$/);
    try {
      const result = await runner.run(bmc, 'power-status', { timeoutSeconds: 1 });
      expect(result).toMatchObject({ timedOut: true, exitCode: 1 });
      expect(result.problem).toBe('The BMC did not answer GET /redfish/v1/Systems/1 within 1 s');
    } finally {
      sim.stall(undefined);
    }
  });
});

function resets(): unknown[] {
  return sim
    .calls()
    .filter((call) => call.path.endsWith('/Actions/ComputerSystem.Reset'))
    .map((call) => call.body);
}

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
