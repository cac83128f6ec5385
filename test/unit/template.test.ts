import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  knownVariables,
  renderCommand,
  renderText,
  templateProblems,
  templateVariables,
} from '../../src/definitions/index.js';

const HOSTILE = [
  'a; rm -rf /',
  '$(reboot)',
  '`id`',
  "it's",
  'two\nlines',
  'tab\there',
  '"quoted"',
  'ünïcode',
  '*',
  '&& true',
  '',
];

describe('templates: shell quoting', () => {
  it.each(HOSTILE)('keeps %j as exactly one word for a real shell', (value) => {
    // The shell itself splits the rendered command; printf shows each word NUL-terminated.
    const command = renderCommand("printf '%s\\0' {{ host }} end", { host: value });
    const words = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' }).stdout.split('\0');
    expect(words).toEqual([value, 'end', '']);
  });

  it('leaves plain host names readable', () => {
    expect(
      renderCommand(
        'sync --node {{ host.short }}',
        templateVariables({ host: 'web-1.dev2.internal' }, { name: 'dev2', manager: 'm' }, 'HOT-1'),
      ),
    ).toBe('sync --node web-1');
  });

  it('does not quote prose', () => {
    expect(renderText('Run on {{ site.manager }}:', { 'site.manager': 'manager-0.sm1' })).toBe(
      'Run on manager-0.sm1:',
    );
  });
});

describe('templates: validation', () => {
  const known = knownVariables(['host']);
  it('accepts known variables', () => {
    expect(templateProblems('{{ host }} {{host.short}} {{ site.manager }} {{ ticket.key }}', known)).toEqual(
      [],
    );
  });
  it('names an unknown variable', () => {
    expect(templateProblems('{{ hots }}', known)[0]).toMatch(/^unknown template variable "hots"/);
  });
  it('catches unbalanced braces', () => {
    expect(templateProblems('{{ host }', known)).toEqual(['unbalanced "{{" or "}}" in template']);
  });
});
