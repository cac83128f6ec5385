// The sandbox is fenced off from the service: the built CLI (dist/cli.js) loads no module under
// dist/sandbox/ unless a sandbox command runs, and where dist/sandbox/ is absent (the runtime image)
// those commands say so. Likewise pino-pretty, for a person at a terminal, is loaded only when pretty
// output is chosen. Which modules a process loads is recorded by a module hook (node:module's
// registerHooks, which sees require too) the process is started with.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { REPO_ROOT } from '../support/definitions.js';

const DIST = path.join(REPO_ROOT, 'dist');
const SANDBOX_DIR = pathToFileURL(path.join(DIST, 'sandbox')).href + '/';

/** Run with `--import`: writes every module URL the process loads to $LOADED_MODULES, at exit. */
const RECORD_LOADS = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const loaded = [];
registerHooks({ load(url, context, nextLoad) { loaded.push(url); return nextLoad(url, context); } });
process.on('exit', () => writeFileSync(process.env.LOADED_MODULES, loaded.join('\\n')));
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  loaded: string[];
}

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runbot-cli-fence-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `node <cli> ...args`, its exit code and output, and the modules it loaded. */
async function runCli(cli: string, args: string[]): Promise<Run> {
  const record = path.join(await scratchDir(), 'loaded.txt');
  const importHook = `data:text/javascript,${encodeURIComponent(RECORD_LOADS)}`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', importHook, cli, ...args],
      { env: { PATH: process.env.PATH, LOADED_MODULES: record }, timeout: 30_000 },
      (error, stdout, stderr) => {
        void readFile(record, 'utf8').then((text) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, loaded: text.split('\n') }),
        );
      },
    );
  });
}

const fromSandbox = (loaded: string[]) => loaded.filter((url) => url.startsWith(SANDBOX_DIR));
// Module URLs are real paths (node_modules may be a link).
const PRETTY_DIR =
  pathToFileURL(realpathSync(path.join(REPO_ROOT, 'node_modules', 'pino-pretty'))).href + '/';
const fromPretty = (loaded: string[]) => loaded.filter((url) => url.startsWith(PRETTY_DIR));

beforeAll(() => {
  if (!existsSync(path.join(DIST, 'cli.js')))
    throw new Error(`${DIST}/cli.js is missing: run \`npm run build\` first (npm test does)`);
});

describe('cli: the sandbox is loaded only by its own commands', () => {
  it('runbot start loads the service and nothing under dist/sandbox', async () => {
    const run = await runCli(path.join(DIST, 'cli.js'), ['start', '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Usage: runbot start/);
    expect(run.loaded).toContain(pathToFileURL(path.join(DIST, 'service', 'app.js')).href);
    expect(fromSandbox(run.loaded)).toEqual([]);
  });

  it('runbot --help lists the sandbox commands without loading the sandbox', async () => {
    const run = await runCli(path.join(DIST, 'cli.js'), ['--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ {2}demo\b.*Jira sandbox/m);
    expect(run.stdout).toMatch(/^ {2}sandbox\b.*Jira sandbox/m);
    expect(fromSandbox(run.loaded)).toEqual([]);
  });

  it('runbot demo --help loads the sandbox and prints the options of the real command', async () => {
    const run = await runCli(path.join(DIST, 'cli.js'), ['demo', '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('--exit-when-done');
    expect(fromSandbox(run.loaded)).toContain(`${SANDBOX_DIR}commands.js`);
  });

  it('a sandbox command parses its arguments with the real options', async () => {
    const run = await runCli(path.join(DIST, 'cli.js'), ['sandbox', '--port', 'x']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("option '--port <port>' argument 'x' is invalid");
  });
});

describe('cli: pino-pretty is loaded only for pretty output', () => {
  it('runbot start --help loads the logger but not pino-pretty', async () => {
    const run = await runCli(path.join(DIST, 'cli.js'), ['start', '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.loaded).toContain(pathToFileURL(path.join(DIST, 'logger.js')).href);
    expect(fromPretty(run.loaded)).toEqual([]);
  });

  it('a logger loads pino-pretty only when made for pretty output', async () => {
    const script = `import { PassThrough } from 'node:stream';
import { createLogger } from ${JSON.stringify(pathToFileURL(path.join(DIST, 'logger.js')).href)};
createLogger({ pretty: process.argv[2] === 'pretty', destination: new PassThrough() }).info('x');`;
    const file = path.join(await scratchDir(), 'make-logger.mjs');
    await writeFile(file, script);
    const plain = await runCli(file, ['json']);
    const pretty = await runCli(file, ['pretty']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(pretty.code, pretty.stderr).toBe(0);
    expect(fromPretty(plain.loaded)).toEqual([]);
    expect(fromPretty(pretty.loaded)).toContain(`${PRETTY_DIR}index.js`);
  });
});

describe('cli: where the sandbox is not installed (the runtime image)', () => {
  /** The image's layout: dist/ without dist/sandbox, node_modules and a package.json beside it. */
  async function imageWithoutSandbox(): Promise<string> {
    const app = await scratchDir();
    await cp(DIST, path.join(app, 'dist'), {
      recursive: true,
      filter: (source) => path.relative(DIST, source).split(path.sep)[0] !== 'sandbox',
    });
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(app, 'node_modules'));
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ type: 'module' }));
    return path.join(app, 'dist', 'cli.js');
  }

  it.each(['demo', 'sandbox --broken', 'demo --help'])(
    'runbot %s says the sandbox is not part of this image, exit 2',
    async (command) => {
      const args = command.split(' ');
      const cli = await imageWithoutSandbox();
      expect(existsSync(path.join(path.dirname(cli), 'sandbox'))).toBe(false);
      const run = await runCli(cli, args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`runbot ${args[0]}: the sandbox is not part of this image`);
      expect(run.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|at .*\.js:\d+/);
    },
  );

  it('the service commands still run there', async () => {
    const run = await runCli(await imageWithoutSandbox(), ['start', '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Usage: runbot start/);
  });
});
