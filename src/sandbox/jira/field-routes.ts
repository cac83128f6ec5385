// Jira sandbox: GET /rest/api/3/field — the system fields the sandbox knows and its custom fields,
// as FieldDetails (id, key, name, schema…), so a client can show fields by their display names.
import type { Route } from './http.js';
import type { SandboxCustomField } from './types.js';

const SYSTEM_FIELDS: { id: string; name: string; type: string; items?: string }[] = [
  { id: 'summary', name: 'Summary', type: 'string' },
  { id: 'description', name: 'Description', type: 'string' },
  { id: 'status', name: 'Status', type: 'status' },
  { id: 'issuetype', name: 'Issue Type', type: 'issuetype' },
  { id: 'project', name: 'Project', type: 'project' },
  { id: 'labels', name: 'Labels', type: 'array', items: 'string' },
  { id: 'issuelinks', name: 'Linked Issues', type: 'array', items: 'issuelinks' },
  { id: 'comment', name: 'Comment', type: 'comments-page' },
  { id: 'resolution', name: 'Resolution', type: 'resolution' },
  { id: 'created', name: 'Created', type: 'datetime' },
  { id: 'updated', name: 'Updated', type: 'datetime' },
];

export function fieldRoutes(customFields: SandboxCustomField[]): Route[] {
  const fields = () => [
    ...SYSTEM_FIELDS.map((field) => ({
      id: field.id,
      key: field.id,
      name: field.name,
      custom: false,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [field.id],
      schema: { type: field.type, system: field.id, ...(field.items ? { items: field.items } : {}) },
    })),
    ...customFields.map((field) => {
      const customId = Number(field.id.replace(/^customfield_/, ''));
      return {
        id: field.id,
        key: field.id,
        name: field.name,
        custom: true,
        orderable: true,
        navigable: true,
        searchable: true,
        clauseNames: [`cf[${customId}]`, field.name],
        schema: {
          // A custom field's type is the sandbox's choice (doctor's broken site has a `user` one).
          type: field.type ?? 'string',
          ...(field.items ? { items: field.items } : {}),
          custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield',
          customId,
        },
      };
    }),
  ];
  return [{ method: 'GET', template: '/rest/api/3/field', handle: () => ({ status: 200, body: fields() }) }];
}
