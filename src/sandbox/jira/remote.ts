// A sandbox that runs elsewhere (`runbot sandbox`, perhaps behind a recording or validating proxy),
// seen through Jira's REST API only, with the in-process sandbox's surface so the demo code runs
// unchanged: `snapshot` answers from a mirror refreshed in the background (GET issue), and
// `moveAsHuman` takes the workflow transition as a person would (GET + POST transitions).
import { JiraSandbox } from './sandbox.js';
import type { IssueSnapshot } from './types.js';

export interface RemoteSandboxOptions {
  url: string;
  credentials: { email: string; apiToken: string };
  /** Mirror refresh period (default 200 ms). */
  refreshMs?: number;
  /** Where failures of a background call are reported (default stderr). */
  warn?: (message: string) => void;
}

interface RemoteIssue {
  key: string;
  fields: {
    status?: { name?: string };
    labels?: string[];
    comment?: {
      comments?: { id: string; author?: { emailAddress?: string }; body: unknown; created: string }[];
    };
    [field: string]: unknown;
  };
  properties?: Record<string, unknown>;
}

// A look-alike of the in-process class, so the demo's code and helpers take either; no state of
// the base class is used (it is never started).
export class RemoteJiraSandbox extends JiraSandbox {
  private readonly mirror = new Map<string, IssueSnapshot>();
  private readonly auth: string;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly remote: RemoteSandboxOptions) {
    super({ projects: [] });
    const { email, apiToken } = remote.credentials;
    this.auth = `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`;
  }

  /** Starts mirroring (the remote is already listening) and answers its URL. */
  override start(): Promise<string> {
    this.timer ??= setInterval(() => void this.refresh(), this.remote.refreshMs ?? 200);
    return Promise.resolve(this.remote.url);
  }

  override async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.pending]);
    await this.refreshing;
  }

  /** Starts mirroring an issue (the demo tracks the tickets it seeded) and reads it now. */
  async track(key: string): Promise<void> {
    const issue = await this.read(key);
    if (issue) this.mirror.set(key, issue);
  }

  /** Reads every tracked issue again (one refresh at a time). */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const run = this.readAll().finally(() => {
      if (this.refreshing === run) this.refreshing = undefined;
    });
    this.refreshing = run;
    return run;
  }

  private async readAll(): Promise<void> {
    // Yield first: `refreshing` must be set before this can finish (an empty mirror ends at once).
    await Promise.resolve();
    for (const key of [...this.mirror.keys()]) {
      const issue = await this.read(key).catch((error: unknown) => {
        this.warn(`jira sandbox at ${this.remote.url}: reading ${key} failed: ${String(error)}`);
        return undefined;
      });
      if (issue) this.mirror.set(key, issue);
    }
  }

  override snapshot(key: string): IssueSnapshot | undefined {
    const issue = this.mirror.get(key);
    return issue ? structuredClone(issue) : undefined;
  }

  override keys(): string[] {
    return [...this.mirror.keys()];
  }

  /** Moves the issue over HTTP in the background; the mirror shows the move at once. */
  override moveAsHuman(key: string, toStatus: string): void {
    const cached = this.mirror.get(key);
    if (cached) this.mirror.set(key, { ...cached, status: toStatus });
    const move = this.transition(key, toStatus)
      .catch((error: unknown) => this.warn(`jira sandbox at ${this.remote.url}: ${String(error)}`))
      .finally(() => this.pending.delete(move));
    this.pending.add(move);
  }

  /** The remote sandbox's counts are its own; this view makes no count of its own. */
  override requestCounts(): Record<string, number> {
    return {};
  }

  override setFaults(): void {
    throw new Error('jira sandbox: set faults on the running `runbot sandbox` (its --rate-limit… options)');
  }

  private async transition(key: string, toStatus: string): Promise<void> {
    const offered = (await this.api('GET', `/issue/${encodeURIComponent(key)}/transitions`)) as {
      transitions?: { id: string; to?: { name?: string } }[];
    };
    const transition = offered.transitions?.find((t) => t.to?.name?.toLowerCase() === toStatus.toLowerCase());
    if (!transition) throw new Error(`${key} has no transition to '${toStatus}' from where it is now`);
    await this.api('POST', `/issue/${encodeURIComponent(key)}/transitions`, {
      transition: { id: transition.id },
    });
  }

  private async read(key: string): Promise<IssueSnapshot | undefined> {
    const issue = (await this.api(
      'GET',
      `/issue/${encodeURIComponent(key)}?fields=*all&properties=*all`,
      undefined,
      true,
    )) as RemoteIssue | undefined;
    if (!issue) return undefined;
    const { status, labels, comment, ...rest } = issue.fields;
    return {
      key: issue.key,
      status: status?.name ?? '',
      labels: labels ?? [],
      fields: { ...rest, status, labels, comment },
      comments: (comment?.comments ?? []).map((c) => ({
        id: c.id,
        author: c.author?.emailAddress ?? '',
        body: c.body,
        created: new Date(c.created.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')).toISOString(),
      })),
      properties: issue.properties ?? {},
    };
  }

  private async api(method: string, path: string, body?: unknown, missingOk = false): Promise<unknown> {
    const response = await fetch(`${this.remote.url}/rest/api/3${path}`, {
      method,
      headers: { authorization: this.auth, accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (missingOk && response.status === 404) return undefined;
    if (!response.ok)
      throw new Error(`Jira ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  private warn(message: string): void {
    (this.remote.warn ?? ((line: string) => process.stderr.write(`${line}\n`)))(message);
  }
}
