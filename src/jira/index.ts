// The Jira edge: the port the service uses, the jira.js adapter behind it, and the ADF builder.
export type { JiraPort, SearchPage, TicketShape, TransitionOutcome } from './port.js';
export { createJiraAdapter, JiraRequestError } from './adapter.js';
export type { CallCount, JiraAdapter, JiraAdapterOptions } from './adapter.js';
export type { BackoffPolicy, CallOutcome, Random, Sleep } from './backoff.js';
export { DEFAULT_BACKOFF } from './backoff.js';
export * from './adf.js';
export type { SiteField, SiteReads, SiteTransition } from './site-reads.js';
