// The CLI's door to the sandbox. The sandbox (a fake Jira, a simulated fleet, an SSH server) is for
// demos and tests; the service never needs it, and the runtime image does not ship it (Dockerfile).
// So the CLI registers light stand-ins for its commands, listed by `runbot --help`, and loads
// src/sandbox/commands.ts with import() only when one of them runs; that module then parses the
// command's arguments with its real options (and prints its real `--help`). ESLint forbids static
// imports of src/sandbox/ everywhere else (eslint.config.js).
import { Command } from 'commander';

/** The sandbox's commands and what `runbot --help` says of them. */
export const SANDBOX_COMMANDS = {
  demo: 'run the whole thing on this machine: Jira sandbox, Redis, a simulated fleet, RMA tickets',
  sandbox: 'serve the Jira sandbox and the simulated fleet with seeded RMA tickets until stopped',
} as const;

/** A sandbox command invoked where the sandbox was not installed (the runtime image). */
export class SandboxMissingError extends Error {
  constructor(command: string) {
    super(
      `runbot ${command}: the sandbox is not part of this image; run it from a checkout (npm run build, then runbot ${command}, or make demo)`,
    );
    this.name = 'SandboxMissingError';
  }
}

const SANDBOX_MODULE = new URL('../sandbox/commands.js', import.meta.url);

/** True when the import failed because the sandbox module itself is absent, not one of its imports. */
function isSandboxAbsent(error: unknown): boolean {
  // Node's ERR_MODULE_NOT_FOUND carries the URL it could not find.
  const { code, url } = (error ?? {}) as { code?: unknown; url?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && url === SANDBOX_MODULE.href;
}

/**
 * What src/sandbox/commands.ts gives the CLI. The import goes by URL, not by a literal path, so the
 * core's tsconfig project (src/tsconfig.json) never compiles the sandbox; the sandbox's own project
 * checks that its module fits this shape.
 */
export interface SandboxCommandsModule {
  registerSandboxCommands(program: Command): void;
}

async function loadSandboxCommands(command: string): Promise<SandboxCommandsModule> {
  try {
    return (await import(SANDBOX_MODULE.href)) as SandboxCommandsModule;
  } catch (error) {
    if (isSandboxAbsent(error)) throw new SandboxMissingError(command);
    throw error;
  }
}

/**
 * Registers a stand-in per sandbox command. It takes any arguments (including `--help`) and hands
 * them, once the sandbox is loaded, to a program holding the sandbox's real commands.
 */
export function registerSandboxCommandStubs(program: Command): void {
  for (const [name, description] of Object.entries(SANDBOX_COMMANDS)) {
    program
      .command(name)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .usage('[options]')
      .addHelpText('after', `Its options: runbot ${name} --help`)
      .action(async (_options: unknown, stub: Command) => {
        const sandbox = await loadSandboxCommands(name);
        const real = new Command(program.name()).showHelpAfterError();
        sandbox.registerSandboxCommands(real);
        await real.parseAsync([name, ...stub.args], { from: 'user' });
      });
  }
}
