// Benchmark 2, SSH overhead: a step running `true` on a real loopback sshd through the bot's
// SshRunner, against OpenSSH's own client on the same server. Cold (a new connection each time)
// and warm (the runner's pooled connection vs an OpenSSH ControlMaster). Runs are interleaved,
// alternating which side goes first, and reported as medians and ratios.
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { cpuMs, dist, heading, median, ms, quantile, quietLogger, ratio, summary } from './support/common.js';
import { startSshd, stopProcess } from './support/sshd.js';

const COLD_RUNS = Number(process.env.BENCH_SSH_COLD_RUNS ?? 12);
const WARM_RUNS = Number(process.env.BENCH_SSH_WARM_RUNS ?? 30);
const TIMEOUT_SECONDS = 60;

const run = promisify(execFile);
const { SshRunner, wrapWithTimeout } = await dist('executors/ssh/index.js');
const logger = await quietLogger();

const sshd = await startSshd();
const controlPath = path.join(sshd.dir, 'control.sock');
const target = { host: sshd.host, port: sshd.port, user: sshd.user };
const opensshArgs = [
  '-F',
  '/dev/null',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-i',
  sshd.clientKeyPath,
  '-o',
  `UserKnownHostsFile=${sshd.knownHostsPath}`,
  '-o',
  'GlobalKnownHostsFile=/dev/null',
  '-o',
  'StrictHostKeyChecking=yes',
  '-p',
  String(sshd.port),
  `${sshd.user}@${sshd.host}`,
];
// The runner wraps every command in `timeout -k 5 N sh -c …`; OpenSSH running that same line
// tells the wrapper's share apart from the client's.
const wrapped = wrapWithTimeout('true', TIMEOUT_SECONDS);

async function timed(action) {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function openssh(command, extra = []) {
  await run('ssh', [...extra, ...opensshArgs, command]);
}

function newRunner() {
  return new SshRunner({ privateKey: sshd.clientKeyPath, knownHostsFile: sshd.knownHostsPath, logger });
}

async function runnerStep(runner) {
  const result = await runner.run(target, 'true', { timeoutSeconds: TIMEOUT_SECONDS });
  if (result.exitCode !== 0)
    throw new Error(`bench: runner's \`true\` exited ${result.exitCode}: ${result.stderr}`);
}

/** Runs each variant once per round, rotating the order, and keeps every sample. */
async function interleaved(rounds, variants) {
  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const names = Object.keys(variants);
  for (let round = 0; round < rounds; round += 1) {
    const order = names.map((_, index) => names[(index + round) % names.length]);
    for (const name of order) samples[name].push(await timed(variants[name]));
  }
  return samples;
}

function report(samples) {
  for (const [name, values] of Object.entries(samples)) {
    console.log(
      `${name.padEnd(34)} median ${ms(median(values))}  p10 ${ms(quantile(values, 0.1))}  p90 ${ms(quantile(values, 0.9))}  (n=${values.length})`,
    );
  }
}

let master;
try {
  heading(`cold: a new connection per step (${COLD_RUNS} interleaved rounds)`);
  // One throwaway round each, so first-use costs (module loading, key parsing, disk cache) are out.
  await openssh('true');
  const warmup = newRunner();
  await runnerStep(warmup);
  await warmup.close();
  const cpuBefore = cpuMs();
  let runnerCpu = 0;
  const cold = await interleaved(COLD_RUNS, {
    'runbot SshRunner (new runner)': async () => {
      const before = cpuMs();
      const runner = newRunner();
      await runnerStep(runner);
      await runner.close();
      runnerCpu += cpuMs() - before;
    },
    'ssh … true': () => openssh('true'),
    'ssh … timeout -k 5 60 sh -c true': () => openssh(wrapped),
  });
  report(cold);
  const coldRatio = median(cold['runbot SshRunner (new runner)']) / median(cold['ssh … true']);
  const coldWrappedRatio =
    median(cold['runbot SshRunner (new runner)']) / median(cold['ssh … timeout -k 5 60 sh -c true']);
  console.log(
    `runner / ssh true ${ratio(coldRatio)}; runner / ssh with the same wrapper ${ratio(coldWrappedRatio)}`,
  );
  console.log(
    `runner CPU in this process: ${ms(runnerCpu / COLD_RUNS)} per cold step (of ${ms(cpuMs() - cpuBefore)} total)`,
  );

  heading(`warm: pooled runner vs OpenSSH ControlMaster (${WARM_RUNS} interleaved rounds)`);
  master = spawn('ssh', ['-M', '-S', controlPath, '-N', ...opensshArgs], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await run('ssh', ['-S', controlPath, '-O', 'check', ...opensshArgs]);
      break;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`bench: ssh ControlMaster did not come up: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const pooled = newRunner();
  await runnerStep(pooled); // opens the pooled connection
  await openssh('true', ['-S', controlPath]);
  let pooledCpu = 0;
  const warm = await interleaved(WARM_RUNS, {
    'runbot SshRunner (pooled)': async () => {
      const before = cpuMs();
      await runnerStep(pooled);
      pooledCpu += cpuMs() - before;
    },
    'ssh -S control … true': () => openssh('true', ['-S', controlPath]),
    'ssh -S control … timeout … true': () => openssh(wrapped, ['-S', controlPath]),
  });
  await pooled.close();
  report(warm);
  const warmRatio = median(warm['runbot SshRunner (pooled)']) / median(warm['ssh -S control … true']);
  const warmWrappedRatio =
    median(warm['runbot SshRunner (pooled)']) / median(warm['ssh -S control … timeout … true']);
  console.log(
    `pooled runner / ControlMaster ssh true ${ratio(warmRatio)}; with the same wrapper ${ratio(warmWrappedRatio)}`,
  );
  console.log(`runner CPU in this process: ${ms(pooledCpu / WARM_RUNS)} per pooled step`);
  summary(
    'ssh-overhead',
    `cold ${ms(median(cold['runbot SshRunner (new runner)']))} vs ssh ${ms(median(cold['ssh … true']))} = ${ratio(coldRatio)} ` +
      `(same wrapper ${ratio(coldWrappedRatio)}); warm ${ms(median(warm['runbot SshRunner (pooled)']))} vs ControlMaster ${ms(median(warm['ssh -S control … true']))} = ${ratio(warmRatio)} ` +
      `(same wrapper ${ratio(warmWrappedRatio)})`,
  );
} finally {
  if (master) await stopProcess(master);
  await sshd.stop();
}
