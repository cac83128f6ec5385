// The endpoints the adapter calls, named as the call counts and errors name them: the method and the
// spec's path template (test/contract/jira-platform-v3.json).
export const ENDPOINT = {
  search: 'GET /rest/api/3/search/jql',
  getIssue: 'GET /rest/api/3/issue/{issueIdOrKey}',
  doTransition: 'POST /rest/api/3/issue/{issueIdOrKey}/transitions',
  addComment: 'POST /rest/api/3/issue/{issueIdOrKey}/comment',
  setProperty: 'PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
  getProperty: 'GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}',
  editIssue: 'PUT /rest/api/3/issue/{issueIdOrKey}',
  getComments: 'GET /rest/api/3/issue/{issueIdOrKey}/comment',
  deleteComment: 'DELETE /rest/api/3/issue/{issueIdOrKey}/comment/{id}',
  getFields: 'GET /rest/api/3/field',
} as const;
