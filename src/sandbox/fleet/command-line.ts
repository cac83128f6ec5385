// Reads an exec'd command line the way the runner sends it: `timeout [-k N] [-s SIG] N sh -c '<cmd>'`
// (see ARCHITECTURE.md: remote commands are wrapped in `timeout`), and finds the command inside.
import { parse, type ParseEntry } from 'shell-quote';

export interface CommandLine {
  /** The inner command's words, after the `timeout` and `sh -c` wrappers. */
  argv: string[];
  /** The inner command as one string of words joined by single spaces, for matching. */
  command: string;
  /** The `timeout` limit in ms, when the command was wrapped in one. */
  timeoutMs?: number;
}

export type CommandLineResult = { ok: true; line: CommandLine } | { ok: false; reason: string };

const DURATION_UNITS_MS: Record<string, number> = {
  '': 1_000,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export function readCommandLine(raw: string): CommandLineResult {
  const words = toWords(raw);
  if (!words.ok) return words;
  let argv = words.argv;
  let timeoutMs: number | undefined;

  if (argv[0] === 'timeout') {
    const unwrapped = unwrapTimeout(argv.slice(1));
    if (!unwrapped.ok) return unwrapped;
    timeoutMs = unwrapped.timeoutMs;
    argv = unwrapped.rest;
  }
  if ((argv[0] === 'sh' || argv[0] === '/bin/sh') && argv[1] === '-c') {
    const script = argv[2];
    if (script === undefined) return { ok: false, reason: 'sh: -c: option requires an argument' };
    const inner = toWords(script);
    if (!inner.ok) return inner;
    argv = inner.argv;
  }
  if (argv[0] === 'exec') argv = argv.slice(1);
  if (argv.length === 0) return { ok: false, reason: 'empty command' };
  return {
    ok: true,
    line: { argv, command: argv.join(' '), ...(timeoutMs === undefined ? {} : { timeoutMs }) },
  };
}

/** Splits a command line into words; refuses shell syntax the simulated hosts do not interpret. */
function toWords(text: string): { ok: true; argv: string[] } | { ok: false; reason: string } {
  // Keep `$VAR` literal instead of letting shell-quote expand it to an empty string.
  const entries: ParseEntry[] = parse(text, (name) => `$${name}`);
  const argv: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') argv.push(entry);
    else if ('op' in entry && entry.op === 'glob') argv.push(entry.pattern);
    else if ('comment' in entry) break;
    else
      return { ok: false, reason: `unsupported shell syntax in simulated fleet: ${JSON.stringify(entry)}` };
  }
  return { ok: true, argv };
}

/** `timeout` options then the duration; returns the limit and the command after it. */
function unwrapTimeout(
  args: string[],
): { ok: true; timeoutMs: number; rest: string[] } | { ok: false; reason: string } {
  let index = 0;
  for (;;) {
    const arg = args[index];
    if (arg === '-k' || arg === '-s' || arg === '--kill-after' || arg === '--signal') index += 2;
    else if (arg === '--preserve-status' || arg === '--foreground' || arg === '-v' || arg === '--verbose')
      index += 1;
    else if (arg !== undefined && /^--(kill-after|signal)=/.test(arg)) index += 1;
    else break;
  }
  const timeoutMs = parseDuration(args[index]);
  if (timeoutMs === undefined)
    return { ok: false, reason: `timeout: invalid time interval '${args[index]}'` };
  return { ok: true, timeoutMs, rest: args.slice(index + 1) };
}

function parseDuration(text: string | undefined): number | undefined {
  const match = text === undefined ? null : /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ''] ?? 1_000);
}
