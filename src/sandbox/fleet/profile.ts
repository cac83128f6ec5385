// What the simulated hosts answer: the RMA runbook's commands (runbooks/rma-restore.yaml) as one
// table of patterns, each turning a command and the host's state into a reply. Timings and faults
// come from the profile, so a test or the demo says "memtests take 600 ms, db-3 has a bad DIMM".

export interface FleetProfile {
  /** How long a memtest runs, all passes together. */
  memtestMs: number;
  /** How long `storage-sync` takes. */
  syncMs: number;
  /** How long `storage-rebalance` takes. */
  rebalanceMs: number;
  /** How long `blacklist remove` takes (default 0: at once); lets a fault test cut it short. */
  blacklistMs?: number;
  /** Hosts (FQDN as added to the fleet) whose memtest ends `FAILED: DIMM B2 errors`. */
  failingHosts: string[];
  /** Nodes (short name or FQDN) whose `storage-sync` fails with exit 1. */
  failingSync: string[];
}

export const DEFAULT_FLEET_PROFILE: FleetProfile = {
  memtestMs: 3_000,
  syncMs: 300,
  rebalanceMs: 300,
  failingHosts: [],
  failingSync: [],
};

/** `server` hosts answer memcheck, `manager` hosts answer storage and blacklist commands; `any` both. */
export type HostRole = 'server' | 'manager' | 'any';

export interface HostState {
  name: string;
  role: HostRole;
  memtest?: { startedAt: number; passes: number };
  /** On a manager: the hosts removed from its blacklist (every other host is listed). */
  unlisted: Set<string>;
}

export interface Reply {
  exitCode: number;
  stdout?: string;
  stderr?: string;
  /** The reply comes this long after the command started; the effect applies only then. */
  afterMs?: number;
  /** State change made when the command completes (not when it is cut short). */
  effect?: () => void;
}

interface CommandContext {
  host: HostState;
  args: string[];
  profile: FleetProfile;
  now: number;
}

interface CommandSpec {
  pattern: RegExp;
  roles: HostRole[];
  reply(context: CommandContext): Reply;
}

const SUDO = '(?:sudo -n )?';
const NODE = '([a-z0-9][a-z0-9.-]*)';

const COMMANDS: CommandSpec[] = [
  {
    pattern: new RegExp(`^${SUDO}/usr/local/sbin/memcheck start --passes ([1-9][0-9]?)$`),
    roles: ['server'],
    reply: ({ host, args, profile, now }) => {
      if (memtestPhase(host, profile, now).kind === 'running') {
        return { exitCode: 1, stderr: 'memcheck: a test is already running\n' };
      }
      const passes = Number(args[0]);
      return {
        exitCode: 0,
        stdout: 'memcheck started\n',
        effect: () => (host.memtest = { startedAt: now, passes }),
      };
    },
  },
  {
    pattern: new RegExp(`^${SUDO}/usr/local/sbin/memcheck status$`),
    roles: ['server'],
    reply: ({ host, profile, now }) => {
      const phase = memtestPhase(host, profile, now);
      const line = {
        'not-started': 'NOT STARTED',
        running: `RUNNING pass ${phase.pass}/${phase.passes}`,
        passed: 'PASSED',
        failed: 'FAILED: DIMM B2 errors',
      }[phase.kind];
      return { exitCode: 0, stdout: `${line}\n` };
    },
  },
  {
    pattern: new RegExp(`^${SUDO}/usr/sbin/storage-sync --node ${NODE}$`),
    roles: ['manager'],
    reply: ({ args, profile }) => {
      const node = args[0] ?? '';
      if (profile.failingSync.some((entry) => shortName(entry) === shortName(node))) {
        return {
          exitCode: 1,
          stderr: `storage-sync: replica set for ${node} unreachable, sync aborted\n`,
          afterMs: profile.syncMs,
        };
      }
      return { exitCode: 0, stdout: `sync complete for ${node}\n`, afterMs: profile.syncMs };
    },
  },
  {
    pattern: new RegExp(`^${SUDO}/usr/sbin/storage-rebalance --node ${NODE}$`),
    roles: ['manager'],
    reply: ({ args, profile }) => ({
      exitCode: 0,
      stdout: `rebalance complete for ${args[0] ?? ''}\n`,
      afterMs: profile.rebalanceMs,
    }),
  },
  {
    pattern: new RegExp(`^${SUDO}/usr/sbin/blacklist remove ${NODE}$`),
    roles: ['manager'],
    reply: ({ host, args, profile }) => {
      const target = args[0] ?? '';
      const afterMs = profile.blacklistMs ?? 0;
      if (host.unlisted.has(target)) return { exitCode: 0, stdout: `${target} was not listed\n`, afterMs };
      return { exitCode: 0, stdout: `removed ${target}\n`, afterMs, effect: () => host.unlisted.add(target) };
    },
  },
  {
    pattern: new RegExp(`^${SUDO}/usr/sbin/blacklist sync$`),
    roles: ['manager'],
    reply: () => ({ exitCode: 0, stdout: 'blacklist synced\n' }),
  },
  {
    pattern: new RegExp(`^${SUDO}/usr/sbin/blacklist show ${NODE}$`),
    roles: ['manager'],
    reply: ({ host, args }) => {
      const target = args[0] ?? '';
      return { exitCode: 0, stdout: host.unlisted.has(target) ? 'not listed\n' : 'listed\n' };
    },
  },
];

/** The command lines the simulated hosts answer (anything else exits 127). */
export const FLEET_COMMAND_PATTERNS: readonly RegExp[] = COMMANDS.map((spec) => spec.pattern);

/** The node a manager command names (`--node db-1`, `blacklist remove db-1.site`), if any. */
export function subjectOf(command: string): string | undefined {
  for (const spec of COMMANDS) {
    if (!spec.roles.includes('manager')) continue;
    const node = spec.pattern.exec(command)?.[1];
    if (node !== undefined) return node;
  }
  return undefined;
}

/** Finds what the host answers to a command; unknown commands (or wrong role) exit 127 like sh. */
export function replyTo(command: string, host: HostState, profile: FleetProfile, now: number): Reply {
  for (const spec of COMMANDS) {
    if (host.role !== 'any' && !spec.roles.includes(host.role)) continue;
    const match = spec.pattern.exec(command);
    if (match) return spec.reply({ host, args: match.slice(1), profile, now });
  }
  const name = command.replace(/^sudo -n /, '').split(' ')[0] ?? command;
  return { exitCode: 127, stderr: `sh: 1: ${name}: command not found\n` };
}

type MemtestPhase =
  | { kind: 'not-started' | 'passed' | 'failed'; pass?: undefined; passes?: undefined }
  | { kind: 'running'; pass: number; passes: number };

function memtestPhase(host: HostState, profile: FleetProfile, now: number): MemtestPhase {
  const memtest = host.memtest;
  if (!memtest) return { kind: 'not-started' };
  const elapsed = now - memtest.startedAt;
  if (elapsed >= profile.memtestMs) {
    return { kind: profile.failingHosts.includes(host.name) ? 'failed' : 'passed' };
  }
  const passMs = profile.memtestMs / memtest.passes;
  return {
    kind: 'running',
    pass: Math.min(memtest.passes, Math.floor(elapsed / passMs) + 1),
    passes: memtest.passes,
  };
}

function shortName(host: string): string {
  return host.split('.')[0] ?? host;
}
