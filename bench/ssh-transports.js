// Benchmark: the two SSH transports side by side on one loopback sshd — node-ssh (SshRunner), the
// openssh transport (OpensshRunner: an `ssh` mux client per command over a ControlMaster), and
// bare `ssh` running the same `timeout -k 5 60 sh -c true` line. Cold (a new runner, so a new
// connection, per step) and warm (one pooled runner; bare ssh through its own ControlMaster).
// Runs are interleaved, rotating which goes first; medians and ratios from one run.
// The host key is pinned (no certificate): certificate checking is a few signature checks inside
// the handshake, lost in the noise of a connection.
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout } from 'node:timers';
import { promisify } from 'node:util';
import { dist, heading, median, ms, quantile, quietLogger, ratio, summary } from './support/common.js';
import { startSshd, stopProcess } from './support/sshd.js';

const COLD_RUNS = Number(process.env.BENCH_SSH_COLD_RUNS ?? 12);
const WARM_RUNS = Number(process.env.BENCH_SSH_WARM_RUNS ?? 30);
const TIMEOUT_SECONDS = 60;

const run = promisify(execFile);
const { OpensshRunner, SshRunner, wrapWithTimeout } = await dist('executors/ssh/index.js');
const logger = await quietLogger();

const sshd = await startSshd();
// The openssh transport looks keys up under the bare name (HostKeyAlias), node-ssh as [name]:port.
const knownHostsPath = path.join(sshd.dir, 'known_hosts.both');
const pinned = (await readFile(sshd.knownHostsPath, 'utf8')).trim().split(' ').slice(1).join(' ');
await writeFile(knownHostsPath, `[${sshd.host}]:${sshd.port} ${pinned}\n${sshd.host} ${pinned}\n`);
const controlPath = path.join(sshd.dir, 'bare-control.sock');
const target = { host: sshd.host, port: sshd.port, user: sshd.user };
const bareArgs = [
  '-F',
  '/dev/null',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-i',
  sshd.clientKeyPath,
  '-o',
  `UserKnownHostsFile=${knownHostsPath}`,
  '-o',
  'GlobalKnownHostsFile=/dev/null',
  '-o',
  'StrictHostKeyChecking=yes',
  '-p',
  String(sshd.port),
  `${sshd.user}@${sshd.host}`,
];
const wrapped = wrapWithTimeout('true', TIMEOUT_SECONDS);

const options = { privateKey: sshd.clientKeyPath, knownHostsFile: knownHostsPath, logger };
const transports = {
  'node-ssh': () => new SshRunner(options),
  openssh: () => new OpensshRunner(options),
};

async function timed(action) {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function step(runner, transport) {
  const result = await runner.run({ ...target, ...(transport === 'openssh' ? { transport } : {}) }, 'true', {
    timeoutSeconds: TIMEOUT_SECONDS,
  });
  if (result.exitCode !== 0)
    throw new Error(`bench: ${transport} \`true\` exited ${result.exitCode}: ${result.stderr}`);
}

async function interleaved(rounds, variants) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const name of names.map((_, index) => names[(index + round) % names.length])) {
      samples[name].push(await timed(variants[name]));
    }
  }
  return samples;
}

function report(samples) {
  for (const [name, values] of Object.entries(samples)) {
    console.log(
      `${name.padEnd(36)} median ${ms(median(values))}  p10 ${ms(quantile(values, 0.1))}  p90 ${ms(quantile(values, 0.9))}  (n=${values.length})`,
    );
  }
}

let master;
const pooled = {};
try {
  heading(`cold: a new connection per step (${COLD_RUNS} interleaved rounds)`);
  for (const [name, make] of Object.entries(transports)) {
    const warmup = make();
    await step(warmup, name);
    await warmup.close();
  }
  await run('ssh', [...bareArgs, wrapped]);
  const cold = await interleaved(COLD_RUNS, {
    'node-ssh (new runner)': async () => {
      const runner = transports['node-ssh']();
      await step(runner, 'node-ssh');
      await runner.close();
    },
    'openssh (new runner: master + client)': async () => {
      const runner = transports.openssh();
      await step(runner, 'openssh');
      await runner.close();
    },
    'bare ssh … timeout … true': () => run('ssh', [...bareArgs, wrapped]),
  });
  report(cold);
  const bareCold = median(cold['bare ssh … timeout … true']);
  const coldNode = median(cold['node-ssh (new runner)']) / bareCold;
  const coldOpenssh = median(cold['openssh (new runner: master + client)']) / bareCold;
  console.log(`vs bare ssh: node-ssh ${ratio(coldNode)}, openssh ${ratio(coldOpenssh)}`);

  heading(`warm: pooled runners vs bare ssh through a ControlMaster (${WARM_RUNS} interleaved rounds)`);
  master = spawn('ssh', ['-M', '-S', controlPath, '-N', ...bareArgs], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await run('ssh', ['-S', controlPath, '-O', 'check', ...bareArgs]);
      break;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`bench: ssh ControlMaster did not come up: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  for (const [name, make] of Object.entries(transports)) {
    pooled[name] = make();
    await step(pooled[name], name);
  }
  const warm = await interleaved(WARM_RUNS, {
    'node-ssh (pooled)': () => step(pooled['node-ssh'], 'node-ssh'),
    'openssh (pooled: mux client)': () => step(pooled.openssh, 'openssh'),
    'bare ssh -S control … timeout … true': () => run('ssh', ['-S', controlPath, ...bareArgs, wrapped]),
  });
  report(warm);
  const bareWarm = median(warm['bare ssh -S control … timeout … true']);
  const warmNode = median(warm['node-ssh (pooled)']) / bareWarm;
  const warmOpenssh = median(warm['openssh (pooled: mux client)']) / bareWarm;
  console.log(
    `vs bare ssh through a ControlMaster: node-ssh ${ratio(warmNode)}, openssh ${ratio(warmOpenssh)}`,
  );
  summary(
    'ssh-transports',
    `cold: node-ssh ${ms(median(cold['node-ssh (new runner)']))}, openssh ${ms(median(cold['openssh (new runner: master + client)']))}, bare ssh ${ms(bareCold)} ` +
      `(${ratio(coldNode)}, ${ratio(coldOpenssh)}); warm: node-ssh ${ms(median(warm['node-ssh (pooled)']))}, openssh ${ms(median(warm['openssh (pooled: mux client)']))}, ` +
      `bare ssh -S ${ms(bareWarm)} (${ratio(warmNode)}, ${ratio(warmOpenssh)})`,
  );
} finally {
  for (const runner of Object.values(pooled)) await runner.close();
  if (master) await stopProcess(master);
  await sshd.stop();
}
