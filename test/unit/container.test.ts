// The container files, checked without a Docker engine: the Dockerfile through a Dockerfile linter
// (dockerfile-utils, every rule as an error) and our own conventions; docker-compose.yml for what
// BullMQ and a graceful shutdown need.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/definitions.js';

const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** Instructions with their arguments, continuation lines joined, comments dropped. */
function instructions(text: string): { name: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name = '', ...rest] = line.split(/\s+/);
      return { name: name.toUpperCase(), args: rest.join(' ') };
    });
}

describe('container: Dockerfile', () => {
  it('passes the linter with every rule raised to an error', () => {
    const strict: ValidatorSettings = {
      deprecatedMaintainer: ValidationSeverity.ERROR,
      directiveCasing: ValidationSeverity.ERROR,
      emptyContinuationLine: ValidationSeverity.ERROR,
      instructionCasing: ValidationSeverity.ERROR,
      instructionCmdMultiple: ValidationSeverity.ERROR,
      instructionEntrypointMultiple: ValidationSeverity.ERROR,
      instructionHealthcheckMultiple: ValidationSeverity.ERROR,
      instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
      instructionWorkdirRelative: ValidationSeverity.ERROR,
    };
    const problems = validate(dockerfile, strict).map(
      (d) =>
        `Dockerfile:${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).toEqual([]);
  });

  it('the linter does catch problems (it is not silently passing everything)', () => {
    const broken = 'FROM node:24-slim\nMAINTAINER someone\nUSER\nworkdir app\n';
    expect(validate(broken, { deprecatedMaintainer: ValidationSeverity.ERROR }).length).toBeGreaterThan(1);
  });

  it('builds in stages from node:24-slim and runs the last stage as a non-root user', () => {
    const all = instructions(dockerfile);
    const froms = all.filter((i) => i.name === 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^node:24-slim\b/);
    const finalStage = all.slice(all.findLastIndex((i) => i.name === 'FROM'));
    const user = finalStage.filter((i) => i.name === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(finalStage.some((i) => i.name === 'ADD')).toBe(false);
  });

  it('checks /healthz, and starts the CLI in exec form so SIGTERM reaches node', () => {
    const finalStage = instructions(dockerfile).slice(
      instructions(dockerfile).findLastIndex((i) => i.name === 'FROM'),
    );
    const healthcheck = finalStage.find((i) => i.name === 'HEALTHCHECK')?.args ?? '';
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toMatch(/CMD \[/);
    const entrypoint = finalStage.find((i) => i.name === 'ENTRYPOINT')?.args ?? '';
    const [program, ...rest] = JSON.parse(entrypoint) as string[];
    expect(program).toBe('node');
    expect(rest.at(-1)).toBe('dist/cli.js');
    // Between them only node flags (V8's heap growth, which NODE_OPTIONS does not take).
    for (const flag of rest.slice(0, -1)) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
  });

  it("runs node with flags this node accepts: the ENTRYPOINT's on the command line, NODE_OPTIONS in the environment", () => {
    const finalStage = instructions(dockerfile).slice(
      instructions(dockerfile).findLastIndex((i) => i.name === 'FROM'),
    );
    const entrypoint = JSON.parse(finalStage.find((i) => i.name === 'ENTRYPOINT')?.args ?? '[]') as string[];
    const flags = entrypoint.slice(1, -1);
    const nodeOptions = /\bNODE_OPTIONS=(\S+)/.exec(
      finalStage
        .filter((i) => i.name === 'ENV')
        .map((i) => i.args)
        .join(' '),
    )?.[1];
    expect(nodeOptions).toBeDefined();
    // A flag V8 dropped, or one NODE_OPTIONS refuses ("is not allowed in NODE_OPTIONS"), exits 9.
    const run = spawnSync(process.execPath, [...flags, '-e', ''], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('leaves the sandbox out of the runtime image: removed after the build, never copied', () => {
    const all = instructions(dockerfile);
    const finalFrom = all.findLastIndex((i) => i.name === 'FROM');
    const buildStage = all.slice(0, finalFrom);
    const built = buildStage.findIndex((i) => i.name === 'RUN' && /\bnpm run build\b/.test(i.args));
    expect(built).toBeGreaterThanOrEqual(0);
    // The build and what follows it in the build stage, as one shell script in order.
    const afterBuild = buildStage
      .slice(built)
      .filter((i) => i.name === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    const removed = /\brm -rf (\.\/)?dist\/sandbox\/?(\s|$)/.exec(afterBuild);
    expect(removed, 'the build stage removes dist/sandbox after `npm run build`').not.toBeNull();
    expect(removed?.index).toBeGreaterThan(afterBuild.indexOf('npm run build'));
    // The runtime stage copies dist/ from the build stage, and nothing of the sources or the sandbox.
    const copies = all.slice(finalFrom).filter((i) => i.name === 'COPY' || i.name === 'ADD');
    expect(copies.some((i) => /--from=build\b.*\/app\/dist\s/.test(i.args))).toBe(true);
    for (const copy of copies) expect(copy.args).not.toMatch(/\bsandbox\b|(^|\s)(\.\/)?src\b/);
  });
});

describe('container: docker-compose.yml', () => {
  // Compose resolves YAML merge keys (`<<: *runbot`), so the test does too.
  const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<
      string,
      {
        command?: string[];
        depends_on?: Record<string, { condition: string }>;
        environment?: Record<string, string>;
        stop_grace_period?: string;
        volumes?: string[];
        healthcheck?: unknown;
      }
    >;
  };

  it('runs Redis with noeviction and an append-only file, persisted in a volume', () => {
    const redis = compose.services.redis;
    expect(redis?.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis?.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis?.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(redis?.healthcheck).toBeDefined();
  });

  it('starts runbot after Redis is healthy, with more stop grace than the shutdown grace', () => {
    const runbot = compose.services.runbot;
    expect(runbot?.command).toEqual(['start']);
    expect(runbot?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(runbot?.environment?.REDIS_URL).toBe('redis://redis:6379');
    const grace = Number(runbot?.environment?.RUNBOT_SHUTDOWN_GRACE);
    const stop = Number(/^(\d+)s$/.exec(runbot?.stop_grace_period ?? '')?.[1]);
    expect(stop).toBeGreaterThan(grace);
    expect(runbot?.volumes).toEqual(
      expect.arrayContaining(['./runbooks:/app/runbooks:ro', './workflows:/app/workflows:ro']),
    );
    expect(compose.services.worker?.command).toEqual(['work']);
  });
});
