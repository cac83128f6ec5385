// Runs the service's own roles as separate OS processes (`node dist/cli.js work|poll`), the way a
// deployment scales them, so a test can SIGKILL one mid-step or SIGTERM it and start another.
// Every process is tracked and stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const CLI = path.resolve(import.meta.dirname, '../../../dist/cli.js');

export type Role = 'work' | 'poll' | 'start';

export interface RunbotProcess {
  readonly role: Role;
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Exited although no test signalled it. */
  crashed(): boolean;
  /** Sends a signal by PID. */
  signal(signal: NodeJS.Signals): void;
  /** The last lines the process wrote (pino JSON on stdout, crashes on stderr). */
  output(): string;
  /** Every line the process wrote that contains `text` (kept for failure messages). */
  linesWith(text: string): string[];
}

/** Enough of a scenario's log to explain a stuck ticket, without holding an unbounded run. */
const KEPT_LOG_CHARS = 32_000_000;

export class RunbotProcesses {
  private readonly started: RunbotProcess[] = [];
  private counter = 0;

  constructor(private readonly env: Record<string, string>) {
    if (!existsSync(CLI)) {
      throw new Error(`${CLI} is missing: run \`npm run build\` before the fault tests (npm test does)`);
    }
  }

  start(role: Role, extraEnv: Record<string, string> = {}): RunbotProcess {
    this.counter += 1;
    const name = `${role}-${this.counter}`;
    const child: ChildProcess = spawn(process.execPath, [CLI, role], {
      env: { ...process.env, ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start runbot ${role} (${CLI})`);
    let tail = '';
    let log = '';
    let signalled = false;
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-8_000);
      log = (log + text).slice(-KEPT_LOG_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const entry: RunbotProcess = {
      role,
      name,
      pid,
      exited,
      isRunning: () => child.exitCode === null && child.signalCode === null,
      signal: (signal) => {
        signalled = true;
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
      },
      crashed: () => !signalled && (child.exitCode !== null || child.signalCode !== null),
      output: () => tail,
      linesWith: (text) => log.split('\n').filter((line) => line.includes(text)),
    };
    this.started.push(entry);
    return entry;
  }

  running(role?: Role): RunbotProcess[] {
    return this.started.filter((entry) => entry.isRunning() && (role === undefined || entry.role === role));
  }

  all(): RunbotProcess[] {
    return [...this.started];
  }

  /** SIGKILL by PID, no drain: what a crash or an OOM kill does. */
  async kill(entry: RunbotProcess): Promise<void> {
    entry.signal('SIGKILL');
    await entry.exited;
  }

  /** SIGTERM by PID and wait; SIGKILL after `graceMs` if it has not exited. */
  async stop(
    entry: RunbotProcess,
    graceMs = 20_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    entry.signal('SIGTERM');
    const timer = setTimeout(() => entry.signal('SIGKILL'), graceMs);
    try {
      return await entry.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running().map((entry) => this.stop(entry)));
  }

  /** Throws with the process's output if any process exited without being signalled. */
  assertNoneCrashed(): void {
    const crashed = this.started.filter((entry) => entry.crashed());
    if (crashed.length > 0) throw new Error(`runbot process exited on its own:\n${this.report(crashed)}`);
  }

  /** The last output of the given processes (default all), for failure messages. */
  report(entries: RunbotProcess[] = this.started): string {
    return entries
      .map((entry) => `--- ${entry.name} (pid ${entry.pid})\n${entry.output().slice(-2_000)}`)
      .join('\n');
  }
}
