import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  commandProblems,
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

describe('templates: placeholders inside the author quoting', () => {
  const where = (template: string) =>
    commandProblems(template).map((problem) => /is inside ([a-z ]+):/.exec(problem)?.[1]);

  it.each([
    ["echo '{{ host }}'", ['single quotes']],
    ['echo "{{ host }}"', ['double quotes']],
    ['echo `dig {{ host }}`', ['backticks']],
    ['echo `echo $(dig {{ host }})`', ['backticks']],
    ['echo "it\'s {{ host }}"', ['double quotes']],
    ['echo "a \\" {{ host }}"', ['double quotes']],
  ])('rejects %s', (template, contexts) => {
    expect(where(template)).toEqual(contexts);
  });

  it.each([
    'echo {{ host }} x{{ host }}y --name={{ host.short }}',
    'echo "$(dig +short {{ host }})" "$( (cd /; ls {{ host }}) )"',
    "echo 'literal' {{ host }} 'another'",
    'echo \\\' {{ host }} \\"',
    'echo "done" {{ host }}',
  ])('accepts %s', (template) => {
    expect(commandProblems(template)).toEqual([]);
  });

  it('says what to do instead', () => {
    expect(commandProblems("echo '{{ host }}'")).toEqual([
      'placeholder {{ host }} is inside single quotes: runbot quotes every value as one shell word itself; remove the quotes around it',
    ]);
  });
});
