// The jira.js client the adapter calls through, and the core every part of the adapter shares: the
// client, the one call wrapper (call.ts), the read-your-writes memory and the logger.
import { createCloudClient } from 'jira.js';
import type { Logger } from '../logger.js';
import { createJiraCredentials, type JiraCredentials } from './auth.js';
import type { Call } from './call.js';
import type { createRecentWrites } from './recent-writes.js';
import { createJiraTransport } from './transport.js';

export type JiraClient = ReturnType<typeof createCloudClient>;

export interface JiraCore {
  client: JiraClient;
  call: Call;
  writes: ReturnType<typeof createRecentWrites>;
  logger: Logger;
}

/** jira.js builds the requests; our transport sends them (it keeps the rate-limit headers: transport.ts). */
export function createClient(settings: { url: string; now?: () => number }, credentials: JiraCredentials) {
  let base: URL;
  try {
    base = new URL(settings.url);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new Error('Jira client settings rejected (host: expected an http(s) URL). Check JIRA_URL.');
  }
  return createCloudClient(
    createJiraTransport({
      baseUrl: base.toString(),
      credentials,
      ...(settings.now ? { now: settings.now } : {}),
    }),
  );
}

export function basicCredentials(settings: { email?: string; apiToken?: string }): JiraCredentials {
  const missing = [
    settings.email && /^[^@\s]+@[^@\s]+$/.test(settings.email)
      ? []
      : ['auth.email: expected an email address'],
    settings.apiToken ? [] : ['auth.apiToken: required'],
  ].flat();
  if (missing.length > 0)
    throw new Error(
      `Jira client settings rejected (${missing.join('; ')}). Check JIRA_URL and JIRA_EMAIL (and JIRA_API_TOKEN).`,
    );
  return createJiraCredentials({
    mode: 'basic',
    email: settings.email ?? '',
    apiToken: settings.apiToken ?? '',
  });
}
