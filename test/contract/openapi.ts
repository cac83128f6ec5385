// Checks one HTTP exchange (method, path, query, JSON body, status, JSON answer) against Atlassian's
// OpenAPI 3.0 spec of Jira Cloud with ajv 8. How the spec's OpenAPI dialect is read:
// - $refs resolve inside the one spec document (added to ajv whole, compiled lazily per pointer);
// - `nullable` is ajv's own OpenAPI keyword; `discriminator`, `xml`, `example`, `x-*` are annotations;
// - `readOnly: true` data in a request fails (the client must not send it), as `writeOnly` data in
//   an answer fails; formats (uri, date-time, int32, int64…) are checked by ajv-formats;
// - query parameters arrive as strings: each is coerced by its declared type (arrays: repeated and/or
//   comma-separated, as Jira reads them) and validated against its schema; undeclared ones fail;
// - an answer's status must be declared for the operation; its body is validated when the spec gives
//   a schema, and any 4xx/5xx body must be Jira's ErrorCollection;
// - IssueBean.fields is a free map in the spec, so the system fields the adapter reads are checked
//   against the schemas the spec gives those values elsewhere (status → StatusDetails, …).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** Atlassian's spec, kept in the repository (see test/contract/README.md for where it came from). */
export const SPEC_PATH =
  process.env.RUNBOT_JIRA_SPEC ?? fileURLToPath(new URL('./jira-platform-v3.json', import.meta.url));

export interface Exchange {
  method: string;
  /** Path and query as sent, e.g. `/rest/api/3/search/jql?jql=…`. */
  url: string;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
type Schema = Record<string, unknown> & { type?: string; items?: Schema };
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation | Parameter[]>>;
  components: { schemas: Record<string, Schema> };
}

// ajv-formats is CommonJS with a default export; under NodeNext its default import is the module.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as unknown as FormatsPlugin;

const SPEC_ID = 'jira-spec';
const pointer = (...parts: string[]) =>
  `${SPEC_ID}#/${parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/** The schema of each IssueBean field the adapter reads, as the spec shapes that value elsewhere. */
const FIELD_SCHEMAS: Record<string, object> = {
  status: { $ref: pointer('components', 'schemas', 'StatusDetails') },
  issuetype: { $ref: pointer('components', 'schemas', 'IssueTypeDetails') },
  project: { $ref: pointer('components', 'schemas', 'ProjectDetails') },
  comment: { $ref: pointer('components', 'schemas', 'PageOfComments') },
  labels: { type: 'array', items: { type: 'string' } },
  summary: { type: 'string' },
  created: { type: 'string', format: 'date-time' },
  updated: { type: 'string', format: 'date-time' },
  // IssueLink requires both sides, but an issue's own links name only the other side (the spec's
  // IssueBean examples show exactly that): the same schema, with one side required.
  issuelinks: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        ['id', 'self', 'type', 'inwardIssue', 'outwardIssue'].map((name) => [
          name,
          { $ref: pointer('components', 'schemas', 'IssueLink', 'properties', name) },
        ]),
      ),
      required: ['type'],
      oneOf: [{ required: ['inwardIssue'] }, { required: ['outwardIssue'] }],
    },
  },
};

function makeAjv(forbidden: 'readOnly' | 'writeOnly', spec: Spec): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
  addFormats(ajv);
  ajv.addFormat('url', /^[a-z][a-z0-9+.-]*:\/\/\S+$/i);
  ajv.removeKeyword(forbidden);
  // Data under a `readOnly` (requests) or `writeOnly` (answers) schema is data that must not be there.
  ajv.addKeyword({ keyword: forbidden, schemaType: 'boolean', validate: (flag: boolean) => !flag });
  ajv.addSchema(spec, SPEC_ID);
  return ajv;
}

export class SpecValidator {
  private readonly spec: Spec;
  private readonly request: Ajv;
  private readonly response: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; pattern: RegExp; literals: number }[];

  constructor(specPath = SPEC_PATH) {
    this.spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;
    this.request = makeAjv('readOnly', this.spec);
    this.response = makeAjv('writeOnly', this.spec);
    this.templates = Object.keys(this.spec.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literals: template.split('/').filter((part) => part !== '' && !part.startsWith('{')).length,
    }));
  }

  /** The spec's path template for a concrete path; literal segments beat parameters. */
  templateOf(path: string): string | undefined {
    return this.templates.filter((t) => t.pattern.test(path)).sort((a, b) => b.literals - a.literals)[0]
      ?.template;
  }

  /** Every way the exchange departs from the spec; empty when it fits. */
  check(exchange: Exchange): string[] {
    const url = new URL(exchange.url, 'http://jira.invalid');
    const where = `${exchange.method} ${url.pathname}`;
    const template = this.templateOf(url.pathname);
    if (!template) return [`${where}: no such path in the spec`];
    const method = exchange.method.toLowerCase();
    const operation = this.spec.paths[template]?.[method] as Operation | undefined;
    if (!operation || Array.isArray(operation))
      return [`${where}: the spec has no ${exchange.method} ${template}`];
    const name = `${exchange.method} ${template}`;
    const problems = [
      ...this.checkPath(template, method, url.pathname, operation),
      ...this.checkQuery(template, method, url.searchParams, operation),
      ...this.checkRequestBody(template, method, exchange.requestBody, operation),
      ...this.checkResponse(template, method, exchange, operation),
    ];
    return problems.map((problem) => `${name}: ${problem}`);
  }

  private checkPath(template: string, method: string, path: string, operation: Operation): string[] {
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
    const values = new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`).exec(path)?.slice(1) ?? [];
    return names.flatMap((name, i) => {
      const index = (operation.parameters ?? []).findIndex((p) => p.in === 'path' && p.name === name);
      if (index < 0) return [`path parameter ${name} is not declared`];
      const validate = this.compile(
        this.request,
        pointer('paths', template, method, 'parameters', String(index), 'schema'),
      );
      return this.errors(validate, decodeURIComponent(values[i] ?? ''), `path ${name}`);
    });
  }

  private checkQuery(
    template: string,
    method: string,
    query: URLSearchParams,
    operation: Operation,
  ): string[] {
    const parameters = operation.parameters ?? [];
    const problems: string[] = [];
    for (const name of new Set(query.keys())) {
      const index = parameters.findIndex((p) => p.in === 'query' && p.name === name);
      const schema = parameters[index]?.schema;
      if (index < 0 || !schema) {
        problems.push(`query parameter '${name}' is not declared`);
        continue;
      }
      const validate = this.compile(
        this.request,
        pointer('paths', template, method, 'parameters', String(index), 'schema'),
      );
      const raw = query.getAll(name);
      if (schema.type === 'array') {
        const items = raw.flatMap((value) => value.split(','));
        problems.push(
          ...this.errors(
            validate,
            items.map((item) => coerce(schema.items ?? {}, item)),
            `query ${name}`,
          ),
        );
      } else if (raw.length > 1) {
        problems.push(`query parameter '${name}' is repeated but is not an array`);
      } else {
        problems.push(...this.errors(validate, coerce(schema, raw[0] ?? ''), `query ${name}`));
      }
    }
    for (const parameter of parameters) {
      if (parameter.in === 'query' && parameter.required && !query.has(parameter.name))
        problems.push(`required query parameter '${parameter.name}' is missing`);
    }
    return problems;
  }

  private checkRequestBody(template: string, method: string, body: unknown, operation: Operation): string[] {
    if (body === undefined) {
      return operation.requestBody?.required ? ['the request body is required but none was sent'] : [];
    }
    if (!operation.requestBody?.content?.['application/json'])
      return ['a JSON request body was sent, the spec declares none'];
    const validate = this.compile(
      this.request,
      pointer('paths', template, method, 'requestBody', 'content', 'application/json', 'schema'),
    );
    return this.errors(validate, body, 'request body');
  }

  private checkResponse(
    template: string,
    method: string,
    exchange: Exchange,
    operation: Operation,
  ): string[] {
    const status = String(exchange.status);
    const declared = operation.responses[status] ?? operation.responses.default;
    if (!declared) return [`answered ${status}, which the spec does not declare for this operation`];
    const key = operation.responses[status] ? status : 'default';
    const problems: string[] = [];
    if (declared.content?.['application/json']?.schema) {
      const validate = this.compile(
        this.response,
        pointer('paths', template, method, 'responses', key, 'content', 'application/json', 'schema'),
      );
      problems.push(...this.errors(validate, exchange.responseBody, `${status} body`));
    } else if (exchange.status >= 400 && exchange.responseBody !== undefined) {
      const validate = this.compile(this.response, pointer('components', 'schemas', 'ErrorCollection'));
      problems.push(...this.errors(validate, exchange.responseBody, `${status} body (ErrorCollection)`));
    }
    if (exchange.status < 300) problems.push(...this.checkIssueFields(exchange.responseBody));
    return problems;
  }

  /** The system fields of every IssueBean in an answer (one issue, or a search page's issues). */
  private checkIssueFields(body: unknown): string[] {
    if (typeof body !== 'object' || body === null) return [];
    const record = body as { issues?: unknown; fields?: unknown; key?: unknown };
    const issues = Array.isArray(record.issues) ? (record.issues as unknown[]) : [record];
    return issues.flatMap((issue) => {
      const { fields, key } = (issue ?? {}) as { fields?: Record<string, unknown>; key?: unknown };
      if (!fields || typeof fields !== 'object') return [];
      return Object.entries(fields).flatMap(([field, value]) => {
        const schema = FIELD_SCHEMAS[field];
        if (!schema) return [];
        const validate = this.compileInline(field, schema);
        return this.errors(validate, value, `${String(key)} fields.${field}`);
      });
    });
  }

  private compile(ajv: Ajv, ref: string): ValidateFunction {
    const id = `${ajv === this.request ? 'request' : 'response'} ${ref}`;
    let validate = this.compiled.get(id);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      this.compiled.set(id, validate);
    }
    return validate;
  }

  private compileInline(field: string, schema: object): ValidateFunction {
    const id = `field ${field}`;
    let validate = this.compiled.get(id);
    if (!validate) {
      validate = this.response.compile(schema);
      this.compiled.set(id, validate);
    }
    return validate;
  }

  private errors(validate: ValidateFunction, value: unknown, what: string): string[] {
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (error) => `${what}${error.instancePath} ${error.message ?? 'is invalid'} (${error.schemaPath})`,
    );
  }
}

/** A query string value as the type its schema declares; left a string when it does not parse. */
function coerce(schema: Schema, raw: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number') {
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  if (schema.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}
