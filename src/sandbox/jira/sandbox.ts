// Jira sandbox: the JiraSandbox class — wires catalog, store, renderer and routes, owns the HTTP
// server's lifecycle, and offers in-process access (snapshot, moveAsHuman, requestCounts) for
// tests and the demo.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commentRoutes } from './comment-routes.js';
import { SandboxAuth } from './auth.js';
import { createJiraServer } from './http.js';
import { fieldRoutes } from './field-routes.js';
import { issueRoutes } from './issue-routes.js';
import { JiraRenderer } from './render.js';
import { SearchEngine } from './search.js';
import { DEFAULT_PERMISSIONS, siteRoutes } from './site-routes.js';
import type { SandboxState } from './state.js';
import { IssueStore, LINK_TYPES } from './store.js';
import type { IssueSnapshot, SandboxFaults, SandboxOptions } from './types.js';
import { WorkflowCatalog } from './workflow.js';

export class JiraSandbox {
  private readonly state: SandboxState;
  private readonly counts = new Map<string, number>();
  private server: Server | undefined;
  private faults: SandboxFaults;
  private baseUrl = 'http://127.0.0.1';

  constructor(private readonly options: SandboxOptions) {
    const catalog = new WorkflowCatalog(options.projects);
    const store = new IssueStore(options.now ?? Date.now, options.searchLagMs ?? 0);
    this.faults = { ...options.faults };
    this.state = {
      catalog,
      store,
      render: new JiraRenderer(catalog, store, () => this.baseUrl, options.commentPageMax ?? 5000),
      customFieldIds: new Set((options.customFields ?? []).map((f) => f.id)),
      searchPageMax: options.searchPageMax ?? 100,
      linkTypes: options.linkTypes ?? LINK_TYPES,
      permissions: new Set(options.permissions ?? DEFAULT_PERMISSIONS),
      commentPageMax: options.commentPageMax ?? 5000,
    };
  }

  /** Listens (port 0 = any free port) and resolves the base URL, e.g. `http://127.0.0.1:41234`. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('jira sandbox: already started');
    const server = createJiraServer({
      routes: [
        ...issueRoutes(this.state),
        ...commentRoutes(this.state),
        ...fieldRoutes(this.options.customFields ?? []),
        ...new SearchEngine(this.state).routes(),
        ...siteRoutes(this.state),
      ],
      auth: new SandboxAuth(this.options, this.options.now ?? Date.now),
      now: this.options.now ?? Date.now,
      counts: this.counts,
      faults: () => this.faults,
      random: this.options.random ?? Math.random,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.baseUrl = `http://${shownHost}:${address.port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeIdleConnections(); // fetch keeps connections alive; they would hold close() open
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  snapshot(key: string): IssueSnapshot | undefined {
    const issue = this.state.store.find(key);
    if (!issue) return undefined;
    return {
      key: issue.key,
      status: issue.status,
      labels: [...issue.labels],
      fields: this.state.render.fields(issue),
      comments: issue.comments.map((c) => ({
        id: c.id,
        author: c.author,
        body: structuredClone(c.body),
        created: new Date(c.created).toISOString(),
      })),
      properties: structuredClone(issue.properties),
    };
  }

  keys(): string[] {
    return this.state.store.all().map((issue) => issue.key);
  }

  /** What a person does in the UI: takes a workflow transition to `toStatus`; throws if none exists from here. */
  moveAsHuman(key: string, toStatus: string): void {
    const issue = this.state.store.find(key);
    if (!issue) throw new Error(`jira sandbox: no issue ${key}`);
    const transition = this.state.catalog
      .availableTransitions(issue.projectKey, issue.status)
      .find((t) => t.to.toLowerCase() === toStatus.toLowerCase());
    if (!transition) {
      throw new Error(`jira sandbox: ${key} has no transition from '${issue.status}' to '${toStatus}'`);
    }
    this.state.store.mutate(issue.key, (draft) => {
      draft.status = this.state.catalog.status(transition.to).name;
    });
  }

  /** Replaces the injected faults (rate limits, 5xx, latency) from now on. */
  setFaults(faults: SandboxFaults): void {
    this.faults = { ...faults };
  }

  /** Calls per `METHOD /rest/api/3/…{template}` since the sandbox was made. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
