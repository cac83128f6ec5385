// Starts OpenIPMI's ipmi_sim as a real BMC on a free loopback UDP port, for integration tests: one
// admin user, a chassis-control script that keeps the power state in a file (and logs every call),
// and a SEL with one entry. Stopped by PID. Needs Debian's openipmi (ipmi_sim) and ipmitool.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopProcess } from './sshd.js';

const run = promisify(execFile);

export interface IpmiSim {
  address: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  pid: number;
  /** The simulated chassis' power state, read from the control script's state file. */
  power(): Promise<'on' | 'off'>;
  setPower(state: 'on' | 'off'): Promise<void>;
  /** Every call ipmi_sim made to the chassis-control script, e.g. "set power 0". */
  controlCalls(): Promise<string[]>;
  stop(): Promise<void>;
}

const USER = 'runbot';
const PASSWORD = 'sim-s3cret';

/** Answers ipmi_sim's `<mc> get power` / `<mc> set power N` with a state file next to it. */
const CHASSIS_SCRIPT = `#!/bin/sh
dir=$(dirname "$0")
[ -f "$dir/power" ] || echo 0 > "$dir/power"
shift
op=$1; shift
call="$op $*"
case "$op" in
  get) for p in "$@"; do case "$p" in power) echo "power:$(cat "$dir/power")";; esac; done;;
  set) while [ $# -gt 1 ]; do [ "$1" = power ] && echo "$2" > "$dir/power"; shift 2; done;;
esac
# Logged after the state changed: a test that sees the call can rely on its effect.
echo "$call" >> "$dir/calls.log"
exit 0
`;

function lanConf(dir: string, port: number): string {
  const auths = 'none md2 md5 straight';
  return [
    'name "runbot-test"',
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr 127.0.0.1 ${port}`,
    '    priv_limit admin',
    ...['callback', 'user', 'operator', 'admin'].map((level) => `    allowed_auths_${level} ${auths}`),
    '    guid a123456789abcdefa123456789abcdef',
    '  endlan',
    `  chassis_control "${join(dir, 'chassis.sh')} 0x20"`,
    `user 2 true "${USER}" "${PASSWORD}" admin 10 ${auths}`,
    '',
  ].join('\n');
}

const EMU = [
  'mc_setbmc 0x20',
  'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr',
  'sel_enable 0x20 1000 0x0a',
  // One system event (a memory ECC error), so reading the SEL returns something.
  'sel_add 0x20 0x02 0x00 0x00 0x00 0x00 0x20 0x00 0x04 0x0c 0x01 0x6f 0x01 0xff 0xff',
  'mc_enable 0x20',
  '',
].join('\n');

export async function startIpmiSim(): Promise<IpmiSim> {
  const dir = await mkdtemp(join(tmpdir(), 'runbot-ipmi-'));
  try {
    return await startIn(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string): Promise<IpmiSim> {
  await writeFile(join(dir, 'chassis.sh'), CHASSIS_SCRIPT);
  await chmod(join(dir, 'chassis.sh'), 0o755);
  await writeFile(join(dir, 'power'), '0\n');
  await writeFile(join(dir, 'sim.emu'), EMU);
  const state = join(dir, 'state');
  await mkdir(state);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freeUdpPort();
    await writeFile(join(dir, 'lan.conf'), lanConf(dir, port));
    const child = spawn(
      'ipmi_sim',
      ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'sim.emu'), '-n', '-s', state],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    try {
      await waitForBmc(port, child, output);
    } catch (error) {
      lastError = error;
      await stopProcess(child);
      continue;
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error('ipmi_sim has no pid');
    return {
      address: '127.0.0.1',
      port,
      user: USER,
      password: PASSWORD,
      pid,
      power: async () => ((await readFile(join(dir, 'power'), 'utf8')).trim() === '1' ? 'on' : 'off'),
      setPower: (value) => writeFile(join(dir, 'power'), value === 'on' ? '1\n' : '0\n'),
      controlCalls: async () =>
        (await readFile(join(dir, 'calls.log'), 'utf8').catch(() => ''))
          .split('\n')
          .filter((line) => line !== ''),
      stop: async () => {
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`ipmi_sim did not start: ${String(lastError)}`);
}

/** A UDP port that was free a moment ago (ipmi_sim binds it next; a race is retried by the caller). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Polls with ipmitool until the simulated BMC answers, or fails fast if ipmi_sim exited. */
async function waitForBmc(port: number, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`ipmi_sim exited: ${output.join('').trim()}`);
    }
    const answered = await run(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        USER,
        '-E',
        '-C',
        '3',
        '-N',
        '1',
        '-R',
        '1',
        'mc',
        'info',
      ],
      { env: { PATH: process.env.PATH, IPMI_PASSWORD: PASSWORD }, timeout: 5_000 },
    ).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ipmi_sim did not answer on UDP port ${port} within 10 s: ${output.join('').trim()}`);
}
