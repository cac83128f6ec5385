// The IPMI executor against a real BMC: OpenIPMI's ipmi_sim on loopback, driven by the real ipmitool.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IpmiAuthError,
  IpmiPasswordMissingError,
  IpmiRunner,
  IpmiUnreachableError,
} from '../../src/executors/ipmi/index.js';
import type { BmcTarget } from '../../src/executors/types.js';
import { startIpmiSim, type IpmiSim } from '../support/ipmi.js';
import { until } from '../support/poll.js';

const PASSWORD_ENV = 'IPMI_PASSWORD_TEST';

let sim: IpmiSim;
let runner: IpmiRunner;
let bmc: BmcTarget;

beforeAll(async () => {
  sim = await startIpmiSim();
  runner = new IpmiRunner({ env: { PATH: process.env.PATH, [PASSWORD_ENV]: sim.password }, retries: 1 });
  bmc = {
    host: 'db-3.dev2.internal',
    address: sim.address,
    port: sim.port,
    user: sim.user,
    passwordEnv: PASSWORD_ENV,
  };
});
afterAll(() => sim?.stop());

describe('ipmi executor: power control against ipmi_sim', () => {
  it('reads the power state', async () => {
    await sim.setPower('off');
    const result = await runner.run(bmc, 'power-status', { timeoutSeconds: 20 });
    expect(result).toMatchObject({ exitCode: 0, power: 'off', timedOut: false });
    expect(result.problem).toBeUndefined();
    await sim.setPower('on');
    expect((await runner.run(bmc, 'power-status', { timeoutSeconds: 20 })).power).toBe('on');
  });

  it('powers the chassis on', async () => {
    await sim.setPower('off');
    const result = await runner.run(bmc, 'power-on', { timeoutSeconds: 20 });
    expect(result).toMatchObject({ exitCode: 0, power: 'on' });
    expect(result.problem).toBeUndefined();
    expect(await sim.power()).toBe('on');
    expect(result.command).toBe(
      `ipmitool -I lanplus -H 127.0.0.1 -p ${sim.port} -U runbot -E chassis power on`,
    );
  });

  it('power-cycles the chassis: off, then on again', async () => {
    await sim.setPower('on');
    const before = (await sim.controlCalls()).length;
    const result = await runner.run(bmc, 'power-cycle', { timeoutSeconds: 20 });
    expect(result.exitCode).toBe(0);
    expect(result.problem).toBeUndefined();
    const calls = await until('the simulator to power back on', async () => {
      const after = (await sim.controlCalls()).slice(before);
      return after.includes('set power 1') ? after : undefined;
    });
    expect(calls.indexOf('set power 0')).toBeLessThan(calls.indexOf('set power 1'));
    expect(await sim.power()).toBe('on');
  });

  it('reads the system event log', async () => {
    const result = await runner.run(bmc, 'sel-read', { timeoutSeconds: 20 });
    expect(result.exitCode).toBe(0);
    expect(result.problem).toBeUndefined();
    expect(result.stdout).toMatch(/Memory/);
  });
});

describe('ipmi executor: failures', () => {
  it('rejects bad credentials as IpmiAuthError without touching the chassis or showing the password', async () => {
    const wrong = new IpmiRunner({
      env: { PATH: process.env.PATH, [PASSWORD_ENV]: 'not-the-password' },
      retries: 1,
    });
    const before = await sim.controlCalls();
    const error = await wrong
      .run(bmc, 'power-cycle', { timeoutSeconds: 20 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IpmiAuthError);
    expect((error as Error).message).toContain(`$${PASSWORD_ENV}`);
    expect((error as Error).message).not.toContain('not-the-password');
    expect(await sim.controlCalls()).toEqual(before);
  });

  it('rejects a wrong user as IpmiAuthError', async () => {
    const error = await runner
      .run({ ...bmc, user: 'nobody' }, 'power-status', { timeoutSeconds: 20 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IpmiAuthError);
    expect((error as Error).message).toContain('"nobody"');
  });

  describe('a BMC that does not answer', () => {
    let silent: Socket;
    beforeAll(async () => {
      // Bound but silent: packets arrive and nothing answers, like a firewalled BMC.
      silent = createSocket('udp4');
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    });
    afterAll(() => new Promise<void>((resolve) => silent.close(() => resolve())));

    it('rejects as IpmiUnreachableError', async () => {
      const quick = new IpmiRunner({
        env: { PATH: process.env.PATH, [PASSWORD_ENV]: sim.password },
        retries: 1,
        retryIntervalSeconds: 1,
      });
      const error = await quick
        .run({ ...bmc, port: silent.address().port }, 'power-status', { timeoutSeconds: 20 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(IpmiUnreachableError);
      expect((error as Error).message).toContain(`127.0.0.1:${silent.address().port}`);
    });
  });

  it('refuses to run without the password variable, naming it', async () => {
    const before = await sim.controlCalls();
    const error = await runner
      .run({ ...bmc, passwordEnv: 'IPMI_PASSWORD_UNSET' }, 'power-on', { timeoutSeconds: 20 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IpmiPasswordMissingError);
    expect((error as Error).message).toContain('IPMI_PASSWORD_UNSET');
    expect(await sim.controlCalls()).toEqual(before);
  });
});
