// Properties of command templates: whatever a ticket field holds, each value reaches the shell as
// exactly the one word it was (the words a real /bin/sh sees, printed NUL-separated by printf).
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  loadDefinitions,
  renderCommand,
  templateVariables,
  unsafeValueReason,
} from '../../src/definitions/index.js';
import { wrapWithTimeout } from '../../src/executors/ssh/index.js';
import { planTicket, type Ticket } from '../../src/planner/index.js';
import { REPO_ROOT } from '../support/definitions.js';

/** The words /bin/sh makes of a command line. */
function shellWords(command: string): string[] {
  const result = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split('\0').slice(0, -1);
}

const SHELL_SYNTAX = [
  ...`;&|<>()$\`\\"' \t\n*?[]{}~#=%!^,:@-+/.`,
  '$(reboot)',
  '`id`',
  '${HOME}',
  '$((1+1))',
  "'\"'\"'",
  '&&',
  '||',
  '>/tmp/x',
  '<<EOF',
  '\r',
  '\u2028',
  '-n',
  '--',
];

/** Anything a Jira text field can hold, minus NUL (which cannot be part of an argv word at all). */
const fieldValue = fc
  .oneof(
    fc.string({ unit: fc.constantFrom(...SHELL_SYNTAX), maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 16 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.constantFrom('', ' ', 'web-1.dev2.internal', 'a; rm -rf /', "it's", 'ünïcode ✓ 名前', '\\'),
  )
  .filter((value) => !value.includes('\0'));

const site = { name: 'dev2', manager: 'manager-0.dev2.internal' };

describe('templates: no ticket value changes the shell words of a command (property)', () => {
  it('each value is one word, beside literal words and glued to literal text', () => {
    fc.assert(
      fc.property(fc.array(fieldValue, { minLength: 1, maxLength: 12 }), (values) => {
        const inputs = Object.fromEntries(values.map((value, index) => [`v${index}`, value]));
        const placeholders = values.map((_, index) => `{{ v${index} }} x{{ v${index} }}y`).join(' ');
        const template = `printf '%s\\0' ${placeholders} {{ site.manager }} {{ v0.short }}`;
        const command = renderCommand(template, templateVariables(inputs, site, 'HOT-1'));
        const intended = [
          ...values.flatMap((value) => [value, `x${value}y`]),
          site.manager,
          values[0]?.split('.')[0] ?? '',
        ];
        expect(shellWords(command)).toEqual(intended);
      }),
      { numRuns: 150 },
    );
  });

  it('stays so through the remote wrapper (`timeout -k 5 N sh -c …` parsed by the login shell)', () => {
    fc.assert(
      fc.property(fieldValue, fieldValue, (host, other) => {
        const command = renderCommand("printf '%s\\0' {{ host }} {{ other }}", { host, other });
        expect(shellWords(wrapWithTimeout(command, 30))).toEqual([host, other]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('templates: values that cannot be template values', () => {
  it('names a NUL or another control character, and where it is', () => {
    expect(unsafeValueReason('web-1\0.dev2.internal')).toBe(
      'the value contains the control character U+0000 at position 6',
    );
    expect(unsafeValueReason('web\u001b[31m')).toBe(
      'the value contains the control character U+001B at position 4',
    );
    expect(unsafeValueReason('tab\tand\nnewline, ünïcode')).toBeUndefined();
  });

  it('a ticket whose host field holds a NUL goes to the failure status; nothing is rendered', async () => {
    const definitions = await loadDefinitions({ root: REPO_ROOT });
    const workflow = definitions.workflows.get('rma-restore');
    const runbook = definitions.runbooks.get('rma-restore');
    if (!workflow || !runbook) throw new Error('shipped definitions missing');
    const ticket: Ticket = {
      key: 'HOT-9',
      status: 'Sync',
      project: 'HOT',
      issueType: 'RMA Restore',
      labels: [],
      inputs: { host: 'web-1.dev2.internal\0; reboot' },
      links: [],
      bookkeeping: undefined,
    };
    const decision = planTicket({
      ticket,
      workflow,
      runbook,
      inventory: definitions.inventory,
      now: new Date(0),
    });
    expect(decision).toMatchObject({
      kind: 'escalate',
      to: 'Actionable',
      title: 'Field customfield_10042 is not a valid host',
    });
  });
});
