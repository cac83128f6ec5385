// The Redfish simulator checked by DMTF's own client: Debian's redfishtool reads it and drives it,
// with session login (-S Always), and the command lines the bot shows people work as written.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redfishtoolCommandLine } from '../../src/executors/redfish/index.js';
import { RedfishSimulator } from '../../src/sandbox/redfish/index.js';

const exec = promisify(execFile);
let sim: RedfishSimulator;

beforeAll(async () => {
  sim = new RedfishSimulator();
  await sim.start();
});
afterAll(() => sim?.stop());

async function redfishtool(...args: string[]): Promise<string> {
  const { stdout } = await exec('redfishtool', [
    '-r',
    `127.0.0.1:${sim.port}`,
    '-u',
    sim.user,
    '-p',
    sim.password,
    '-S',
    'Always',
    '-A',
    'Session',
    ...args,
  ]);
  return stdout;
}

describe('redfish simulator under redfishtool', () => {
  it('serves the service root, the systems collection and the system', async () => {
    const root = JSON.parse(await redfishtool('root')) as Record<string, unknown>;
    expect(root['@odata.type']).toBe('#ServiceRoot.v1_15_0.ServiceRoot');
    const systems = JSON.parse(await redfishtool('Systems')) as { Members: { '@odata.id': string }[] };
    expect(systems.Members).toEqual([{ '@odata.id': '/redfish/v1/Systems/1' }]);
    const system = JSON.parse(await redfishtool('Systems', '-1')) as Record<string, unknown>;
    expect(system).toMatchObject({
      '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
      PowerState: 'On',
    });
  });

  it('is powered off and on by Systems reset, and the power state reads back', async () => {
    await redfishtool('Systems', '-1', 'reset', 'ForceOff');
    expect(sim.state.power).toBe('Off');
    const off = JSON.parse(await redfishtool('Systems', '-1')) as { PowerState: string };
    expect(off.PowerState).toBe('Off');
    await redfishtool('Systems', '-1', 'reset', 'On');
    expect((JSON.parse(await redfishtool('Systems', '-1')) as { PowerState: string }).PowerState).toBe('On');
    const resets = sim.calls().filter((call) => call.path.endsWith('/Actions/ComputerSystem.Reset'));
    expect(resets.map((call) => call.body)).toEqual([{ ResetType: 'ForceOff' }, { ResetType: 'On' }]);
  });

  it('takes a one-time boot override and lists processors, log services and sessions', async () => {
    await redfishtool('Systems', '-1', 'setBootOverride', 'Once', 'Pxe');
    expect(sim.state.boot).toEqual({ target: 'Pxe', enabled: 'Once' });
    const cpus = await redfishtool('Systems', '-1', 'Processors', '-a');
    expect(cpus).toContain('"Health": "OK"');
    expect(await redfishtool('Systems', '-1', 'Logs', '-i', 'SEL')).toContain(
      '#LogService.v1_5_0.LogService',
    );
    expect(await redfishtool('SessionService', 'Sessions')).toContain('#SessionCollection');
  });

  it('clears the SEL through LogService.ClearLog', async () => {
    expect(sim.state.sel.length).toBeGreaterThan(0);
    await redfishtool(
      '-d',
      '{}',
      'raw',
      'POST',
      '/redfish/v1/Systems/1/LogServices/SEL/Actions/LogService.ClearLog',
    );
    expect(sim.state.sel).toEqual([]);
  });

  it('logs every redfishtool session out again', () => {
    const logins = sim.calls().filter((call) => call.method === 'POST' && call.path.endsWith('/Sessions'));
    const logouts = sim.calls().filter((call) => call.method === 'DELETE');
    expect(logins.length).toBeGreaterThan(5);
    expect(logouts).toHaveLength(logins.length);
    expect(sim.openSessions()).toBe(0);
  });

  it('refuses redfishtool with a wrong password', async () => {
    await expect(
      exec('redfishtool', [
        '-r',
        `127.0.0.1:${sim.port}`,
        '-u',
        sim.user,
        '-p',
        'wrong',
        '-S',
        'Always',
        '-A',
        'Session',
        'Systems',
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/401|Unauthorized/) as unknown });
  });

  it('runs the redfishtool command lines the bot shows in its comments', async () => {
    const target = { address: '127.0.0.1', port: sim.port, user: sim.user, passwordEnv: 'BMC_PASSWORD' };
    const env = { ...process.env, BMC_PASSWORD: sim.password };
    await exec('sh', ['-c', redfishtoolCommandLine(target, 'power-off')], { env });
    expect(sim.state.power).toBe('Off');
    await exec('sh', ['-c', redfishtoolCommandLine(target, 'power-cycle')], { env });
    expect(sim.state.power).toBe('On');
    await exec('sh', ['-c', redfishtoolCommandLine(target, 'boot-disk')], { env });
    expect(sim.state.boot).toEqual({ target: 'Hdd', enabled: 'Once' });
    const { stdout } = await exec('sh', ['-c', redfishtoolCommandLine(target, 'power-status')], { env });
    expect(stdout).toContain('"PowerState": "On"');
    sim.state.sel.push({ id: '9', created: '2026-12-01T03:00:00Z', severity: 'OK', message: 'test' });
    await exec('sh', ['-c', redfishtoolCommandLine(target, 'sel-clear')], { env });
    expect(sim.state.sel).toEqual([]);
  });
});
