// Jira sandbox: the error type every handler throws, rendered as Jira's ErrorCollection
// `{errorMessages: string[], errors: {field: message}}` with the HTTP status Jira uses.

export class JiraError extends Error {
  constructor(
    readonly status: number,
    readonly errorMessages: string[],
    readonly errors: Record<string, string> = {},
  ) {
    super(errorMessages[0] ?? Object.values(errors)[0] ?? `HTTP ${status}`);
    this.name = 'JiraError';
  }

  toJSON(): { errorMessages: string[]; errors: Record<string, string> } {
    return { errorMessages: this.errorMessages, errors: this.errors };
  }
}

export const badRequest = (message: string): JiraError => new JiraError(400, [message]);

export const fieldError = (field: string, message: string): JiraError =>
  new JiraError(400, [], { [field]: message });

// The wording Jira Cloud uses for an unknown issue and for one the caller may not see.
export const issueNotFound = (): JiraError =>
  new JiraError(404, ['Issue does not exist or you do not have permission to see it.']);

export const notAuthenticated = (): JiraError =>
  new JiraError(401, ['You are not authenticated. Authentication required to perform this operation.']);

// Jira answers a v3 write with a plain string where ADF is expected with this per-field error.
export const notAdf = (field: string): JiraError =>
  fieldError(field, 'Operation value must be an Atlassian Document (see the Atlassian Document Format)');
