// CLI commands that run the sandbox: `runbot demo` (the whole thing, here or against a running
// sandbox) and `runbot sandbox` (the Jira sandbox and the simulated fleet, served until stopped, so
// `runbot start` can be pointed at them).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SANDBOX_COMMANDS, type SandboxCommandsModule } from '../cli/sandbox.js';
import { PROJECT_ROOT } from '../config.js';
import { loadDefinitions } from '../definitions/index.js';
import { runDemo } from './demo.js';
import { DEMO_CREDENTIALS, startDemoEnvironment } from './demo-env.js';
import { brokenSite, seedOnePerStatus } from './doctor-jira.js';
import { JiraSandbox } from './jira/index.js';

interface SandboxCommandOptions {
  port: number;
  tickets: number;
  rateLimit: number;
  retryAfter: number;
  serverErrors: number;
  latency: number;
  searchLag: number;
  pageSize: number;
  broken?: boolean;
}

const number =
  (what: string, check: (value: number) => boolean = () => true) =>
  (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || !check(value))
      throw new InvalidArgumentError(`expected ${what}, got '${raw}'`);
    return value;
  };
const count = number('a whole number ≥ 0', (v) => Number.isInteger(v) && v >= 0);
const share = number('a share between 0 and 1', (v) => v >= 0 && v <= 1);

/** The variables that point `runbot start` at this sandbox, in the order a person sets them. */
const POINTED_VARIABLES = [
  'JIRA_URL',
  'JIRA_EMAIL',
  'JIRA_API_TOKEN',
  'REDIS_URL',
  'RUNBOT_INVENTORY',
  'RUNBOT_SSH_KEY',
  'RUNBOT_KNOWN_HOSTS',
  'RUNBOT_HOSTS_FILE',
  'RUNBOT_TIME_SCALE',
  'RUNBOT_POLL_INTERVAL',
] as const;

const untilSignal = () =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });

/** Jira alone, its restore project broken in each way `runbot doctor` checks, a ticket per status. */
async function runBrokenSandbox(options: SandboxCommandOptions): Promise<number> {
  const definitions = await loadDefinitions({ root: PROJECT_ROOT });
  const workflow = definitions.workflows.get('rma-restore');
  if (!workflow) throw new Error('the shipped workflow rma-restore is missing');
  const { breaks, ...site } = brokenSite(workflow);
  const sandbox = new JiraSandbox({ ...site, credentials: DEMO_CREDENTIALS });
  const url = await sandbox.start(options.port, '127.0.0.1');
  try {
    await seedOnePerStatus(sandbox, url, DEMO_CREDENTIALS, workflow);
    console.log(`sandbox: broken Jira at ${url} for runbot doctor; it breaks: ${JSON.stringify(breaks)}`);
    console.log('sandbox: point runbot doctor at it with these (Ctrl-C stops the sandbox):');
    console.log(`export JIRA_URL=${url}`);
    console.log(`export JIRA_EMAIL=${DEMO_CREDENTIALS.email}`);
    console.log(`export JIRA_API_TOKEN=${DEMO_CREDENTIALS.apiToken}`);
    await untilSignal();
    console.log('sandbox: stopping');
    return 0;
  } finally {
    await sandbox.stop();
  }
}

async function runSandbox(options: SandboxCommandOptions): Promise<number> {
  if (options.broken) return runBrokenSandbox(options);
  const env = await startDemoEnvironment({
    jiraPort: options.port,
    jira: {
      searchLagMs: options.searchLag,
      searchPageMax: options.pageSize,
      faults: {
        rateLimitRate: options.rateLimit,
        retryAfterSeconds: options.retryAfter,
        serverErrorRate: options.serverErrors,
        latencyMs: options.latency,
      },
    },
  });
  try {
    for (let index = 0; index < options.tickets; index += 1) {
      const host = `container-201-${String(index + 1).padStart(2, '0')}.dev2.internal`;
      await env.seedTicket(host, { rmaDone: true });
    }
    const keys = env.tickets.map((ticket) => ticket.key).join(', ');
    console.log(
      `sandbox: Jira at ${env.config.JIRA_URL}, ${env.tickets.length} RMA restore tickets (${keys})`,
    );
    console.log('sandbox: point runbot at it with these (Ctrl-C stops the sandbox):');
    for (const name of POINTED_VARIABLES) console.log(`export ${name}=${String(env.config[name] ?? '')}`);
    await untilSignal();
    console.log('sandbox: stopping');
    return 0;
  } finally {
    await env.stop();
  }
}

// The CLI loads this module by URL (src/cli/sandbox.ts): typed here as the shape it expects.
export const registerSandboxCommands: SandboxCommandsModule['registerSandboxCommands'] = (
  program: Command,
): void => {
  program
    .command('demo')
    .description(SANDBOX_COMMANDS.demo)
    .addOption(new Option('--tickets <n>', 'number of RMA restore tickets').default(8).argParser(Number))
    .option('--exit-when-done', 'exit when every ticket is Done')
    .option(
      '--jira-url <url>',
      'use the Jira sandbox already running there (`runbot sandbox`), e.g. behind a proxy',
    )
    .action(async (options: { tickets: number; exitWhenDone?: boolean; jiraUrl?: string }) => {
      process.exitCode = await runDemo({
        tickets: options.tickets,
        exitWhenDone: options.exitWhenDone ?? false,
        ...(options.jiraUrl ? { jiraUrl: options.jiraUrl } : {}),
      });
    });

  program
    .command('sandbox')
    .description(SANDBOX_COMMANDS.sandbox)
    .addOption(
      new Option('--port <port>', 'port of the Jira sandbox (0: any free port)')
        .default(8081)
        .argParser(count),
    )
    .addOption(new Option('--tickets <n>', 'RMA restore tickets to seed').default(8).argParser(count))
    .addOption(
      new Option('--rate-limit <share>', 'share of requests answered 429').default(0).argParser(share),
    )
    .addOption(
      new Option('--retry-after <s>', 'Retry-After of those 429s, in seconds').default(1).argParser(count),
    )
    .addOption(
      new Option('--server-errors <share>', 'share of requests answered 5xx').default(0).argParser(share),
    )
    .addOption(new Option('--latency <ms>', 'delay before every answer').default(0).argParser(count))
    .addOption(
      new Option('--search-lag <ms>', 'how long search lags behind writes').default(0).argParser(count),
    )
    .addOption(new Option('--page-size <n>', 'largest search page').default(100).argParser(count))
    .option(
      '--broken',
      'serve only Jira, its restore project broken in each way `runbot doctor` checks (faults options ignored)',
    )
    .action(async (options: SandboxCommandOptions) => {
      process.exitCode = await runSandbox(options).catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        return 1;
      });
    });
};
