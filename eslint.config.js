// Lint: typescript-eslint's recommended type-aware rules over src/, test/ and bench/, plus the
// layering of src/ as import rules (the data path in README's "How it works"):
// - the planner is pure: it imports nothing that does I/O (no node:fs/net/http/child_process…, no
//   bullmq, ioredis, jira.js, node-ssh, ssh2, pino) and none of the edges (jira/, queue/, service/,
//   http/, sandbox/, executors/). The targets it builds and the BMC command lines it shows a person
//   are data and pure functions of definitions/ (targets.ts, bmc-command-lines.ts).
// - definitions/ loads files, so reading them is its job, but only in load.ts (the directory walk),
//   yaml-file.ts (reading one file) and redfish-access.ts (the inventory's CA files must be readable):
//   every other file there is pure, and none talks to the network, a queue or another process, or
//   reaches into the folders that use definitions.
// - the sandbox (a fake Jira, a simulated fleet, an SSH server) is fenced: nothing outside
//   src/sandbox/ imports it statically. src/cli/sandbox.ts loads it with import() when a sandbox
//   command runs, so `runbot start` never loads it and the runtime image does not ship it
//   (Dockerfile). Its own tsconfig project holds the same line for the compiler (src/tsconfig.json
//   leaves src/sandbox/ out, so a core file importing it does not compile).
// - the commands (src/cli/) sit on top: they wire the service, the Jira adapter and the queue
//   together; nothing below them imports src/cli/ (only the entry point src/cli.ts, and the
//   sandbox's own commands, which take the list of sandbox commands from src/cli/sandbox.ts).
// - the runner (src/runner/) sits below the service: it imports nothing from src/service/ but the
//   exclusive holders' read (holders.ts); what the poller and the runner share is runner/context.ts.
// Static imports only: the rule does not see import(), which is how the CLI's fence is crossed.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeModules = (...names) => names.flatMap((name) => [name, `node:${name}`]);
const NETWORK_AND_PROCESSES = [
  ...nodeModules('net', 'tls', 'dgram', 'dns', 'http', 'https', 'http2', 'child_process', 'cluster'),
  'bullmq',
  'ioredis',
  'jira.js',
  'node-ssh',
  'ssh2',
];
const FILES = nodeModules('fs', 'fs/promises');

const paths = (names, message) => names.map((name) => ({ name, message }));
const folders = (names, message, extra = {}) => ({
  group: names.flatMap((name) => [`**/${name}`, `**/${name}/**`]),
  message,
  ...extra,
});

const SANDBOX_FENCE = folders(
  ['sandbox'],
  'only src/cli/sandbox.ts loads the sandbox, with import() when a sandbox command runs: the service never loads it and the runtime image does not ship it',
);
const CLI_FENCE = folders(
  ['cli'],
  'the commands sit on top of the service: nothing below src/cli/ imports them (src/cli.ts is the entry point)',
);

// Every file of src/ but the sandbox's own and the commands' keeps out of both.
const restrict = ({ paths: restrictedPaths = [], patterns = [] }, fences = [SANDBOX_FENCE, CLI_FENCE]) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { paths: restrictedPaths, patterns: [...fences, ...patterns] },
  ],
});

const PLANNER = restrict({
  paths: paths(
    [...NETWORK_AND_PROCESSES, ...FILES, 'pino'],
    'the planner is pure: I/O belongs to the edges (service/, executors/, jira/, queue/)',
  ),
  patterns: [
    folders(
      ['jira', 'queue', 'service', 'http', 'executors', 'runner'],
      'the planner is pure: it is given what it needs as arguments, it does not import the edges (targets and BMC command lines are in definitions/)',
    ),
  ],
});

const DEFINITIONS_NETWORK = {
  paths: paths(NETWORK_AND_PROCESSES, 'definitions are files on disk: no network, queue or other process'),
  patterns: [
    folders(
      ['jira', 'queue', 'service', 'http', 'executors', 'planner', 'runner'],
      'definitions sit below the code that uses them: they import none of it',
    ),
  ],
};
const DEFINITIONS = restrict({
  ...DEFINITIONS_NETWORK,
  paths: [
    ...DEFINITIONS_NETWORK.paths,
    ...paths(FILES, 'only definitions/load.ts, yaml-file.ts and redfish-access.ts read files'),
  ],
});

const RUNNER = restrict({
  patterns: [
    {
      group: ['**/service/*', '!**/service/holders.js'],
      message:
        "the runner sits below the service: what the poller and the runner share is in runner/context.ts (holders.ts, the exclusive holders' read, is the one exception)",
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/', '.tsbuild/', '.bench-dist/', 'node_modules/', 'coverage/', '.runbot/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  // Later blocks replace the rule for their files, so each repeats the sandbox fence (restrict()).
  { files: ['src/**/*.ts'], ignores: ['src/sandbox/**', 'src/cli.ts', 'src/cli/**'], rules: restrict({}) },
  { files: ['src/cli.ts', 'src/cli/**/*.ts'], rules: restrict({}, [SANDBOX_FENCE]) },
  { files: ['src/planner/**/*.ts'], rules: PLANNER },
  { files: ['src/definitions/**/*.ts'], rules: DEFINITIONS },
  { files: ['src/runner/**/*.ts'], rules: RUNNER },
  {
    files: ['src/definitions/load.ts', 'src/definitions/yaml-file.ts', 'src/definitions/redfish-access.ts'],
    rules: restrict(DEFINITIONS_NETWORK),
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
