import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFINITION_KINDS, definitionJsonSchema, type DefinitionKind } from '../../src/definitions/index.js';
import { REPO_ROOT } from '../support/definitions.js';

const committed = (kind: DefinitionKind): unknown =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'schemas', `${kind}.json`), 'utf8'));

/** Every property schema under `properties`, with its JSON path. */
function properties(schema: unknown, at = '$'): [string, Record<string, unknown>][] {
  if (typeof schema !== 'object' || schema === null) return [];
  const found: [string, Record<string, unknown>][] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      for (const [name, property] of Object.entries(value as Record<string, unknown>)) {
        found.push([`${at}.${name}`, property as Record<string, unknown>]);
        found.push(...properties(property, `${at}.${name}`));
      }
    } else found.push(...properties(value, `${at}/${key}`));
  }
  return found;
}

describe('definitions: JSON Schemas for editors', () => {
  it.each(DEFINITION_KINDS)('schemas/%s.json is what the zod schema generates', (kind) => {
    const regenerate = `npm run build && node dist/cli.js schema ${kind} > schemas/${kind}.json && npx prettier --write schemas/`;
    expect(committed(kind), `schemas/${kind}.json is out of date; run: ${regenerate}`).toEqual(
      definitionJsonSchema(kind),
    );
  });

  it.each(DEFINITION_KINDS)(
    'the %s schema is draft-07, closed, with a description on every property',
    (kind) => {
      const schema = definitionJsonSchema(kind);
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(schema.additionalProperties).toBe(false);
      const undescribed = properties(schema)
        .filter(([, property]) => typeof property.description !== 'string')
        .map(([where]) => where);
      expect(undescribed).toEqual([]);
    },
  );

  it.each([
    ['runbook', 'runbooks/rma-restore.yaml'],
    ['workflow', 'workflows/rma-restore.yaml'],
    ['inventory', 'workflows/inventory.yaml'],
  ] as const)('the shipped %s file names its schema on its first line', (kind, file) => {
    const firstLine = readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n')[0] ?? '';
    const target = /^# yaml-language-server: \$schema=(\S+)$/.exec(firstLine)?.[1];
    expect(target).toBe(`../schemas/${kind}.json`);
    expect(path.resolve(path.dirname(path.join(REPO_ROOT, file)), target ?? '')).toBe(
      path.join(REPO_ROOT, 'schemas', `${kind}.json`),
    );
  });

  it('lists every step kind in the runbook schema', () => {
    const text = JSON.stringify(definitionJsonSchema('runbook'));
    for (const kind of ['ssh', 'wait', 'manual']) expect(text).toContain(`"const":"${kind}"`);
  });
});
