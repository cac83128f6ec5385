// The simulated fleet and the demo's audit recognise commands by pattern. If the shipped runbook's
// commands change and the patterns do not, the demo would answer "command not found" or, worse, the
// audit would stop counting a step's runs and miss a step run twice. This keeps the three in step.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDefinitions, renderCommand, templateVariables } from '../../src/definitions/index.js';
import type { Runbook } from '../../src/definitions/index.js';
import { STEP_COMMANDS } from '../../src/sandbox/audit.js';
import { FLEET_COMMAND_PATTERNS } from '../../src/sandbox/fleet/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every command line each step of the runbook can send, rendered for one host. */
function renderedCommands(runbook: Runbook): Map<string, string[]> {
  const variables = templateVariables(
    { host: 'node-7.dev2.internal' },
    { name: 'dev2', manager: 'manager-0.dev2.internal' },
    'HOT-1',
  );
  const byStep = new Map<string, string[]>();
  for (const [name, step] of Object.entries(runbook.steps)) {
    const templates: string[] = [];
    if (step.kind === 'ssh') {
      templates.push(...step.commands);
      if (step.done_when) templates.push(step.done_when.command);
    }
    if (step.kind === 'wait') templates.push(step.check);
    byStep.set(
      name,
      templates.map((template) => renderCommand(template, variables)),
    );
  }
  return byStep;
}

describe('sandbox: fleet and audit patterns match the shipped runbook', async () => {
  const definitions = await loadDefinitions({ root: ROOT });
  const runbook = definitions.runbooks.get('rma-restore')!.runbook;
  const byStep = renderedCommands(runbook);
  const all = [...byStep.values()].flat();

  it('renders the runbook commands it checks (the shipped runbook has SSH and wait steps)', () => {
    expect(all.length).toBeGreaterThanOrEqual(8);
  });

  it.each(FLEET_COMMAND_PATTERNS.map((pattern) => [String(pattern), pattern] as const))(
    'the fleet answers a command of the runbook with %s',
    (_name, pattern) => {
      expect(all.filter((command) => pattern.test(command))).not.toEqual([]);
    },
  );

  it('the fleet answers every command the runbook sends', () => {
    const unanswered = all.filter(
      (command) => !FLEET_COMMAND_PATTERNS.some((pattern) => pattern.test(command)),
    );
    expect(unanswered).toEqual([]);
  });

  it.each(STEP_COMMANDS.map(({ pattern, steps }) => [String(pattern), pattern, steps] as const))(
    'the audit pattern %s matches a command of each step it counts, and of no other step',
    (_name, pattern, steps) => {
      for (const [step, commands] of byStep) {
        const runs = commands.filter((command) => pattern.test(command));
        if (steps.includes(step)) expect(runs, step).not.toEqual([]);
        else expect(runs, step).toEqual([]);
      }
    },
  );
});
