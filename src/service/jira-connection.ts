// Configuration → how to reach Jira: the REST base URL (its path kept) and the credentials of the
// chosen auth mode, shared by the adapter and /readyz so an OAuth token is fetched once per process.
// Issued OAuth access tokens are masked in the logs from the moment they arrive.
import type { Config } from '../config.js';
import { jiraAuthMode } from '../config.js';
import {
  createJiraCredentials,
  jiraApiBase,
  type JiraAuthSettings,
  type JiraCredentials,
} from '../jira/auth.js';
import { addSecrets, forgetSecrets, type Logger } from '../logger.js';

export interface JiraConnection {
  /** REST base: the site, or `https://api.atlassian.com/ex/jira/{cloudId}` for bearer and oauth. */
  url: string;
  credentials: JiraCredentials;
}

export function jiraConnection(config: Config, logger: Logger): JiraConnection {
  const mode = jiraAuthMode(config);
  // loadConfig has checked that the chosen mode has what it needs; these are its values.
  const settings: JiraAuthSettings =
    mode === 'basic'
      ? { mode, email: config.JIRA_EMAIL ?? '', apiToken: config.JIRA_API_TOKEN ?? '' }
      : mode === 'bearer'
        ? { mode, token: config.JIRA_API_TOKEN ?? '' }
        : {
            mode,
            clientId: config.JIRA_CLIENT_ID ?? '',
            clientSecret: config.JIRA_CLIENT_SECRET ?? '',
            tokenUrl: config.JIRA_OAUTH_TOKEN_URL,
          };
  const issued: string[] = [];
  const credentials = createJiraCredentials(settings, {
    onToken: (token) => {
      addSecrets(logger, [token]);
      issued.push(token);
      // The current and the previous token stay masked; older ones have expired.
      if (issued.length > 2) forgetSecrets(logger, issued.splice(0, issued.length - 2));
    },
  });
  return { url: jiraApiBase(config.JIRA_URL, mode, config.JIRA_CLOUD_ID), credentials };
}
