// Which pooled connection a command runs on, per user@host:port key: the busiest connection with a
// free session (so the others can go idle and close), else a new connection beside the busy ones —
// a site manager gets every sync of its site — up to a cap, else a wait for a session to free up.
// A connection with nothing running closes after `idleMs`. Connecting is the runner's business:
// an entry's `ssh` is null until the runner opens it, and again after a failed attempt.

export interface PooledConnection<T> {
  /** null until the first run, and again after a failed attempt. */
  ssh: Promise<T> | null;
  active: number;
  /** Closes the connection when it has been idle for `idleMs`. */
  idle: NodeJS.Timeout | undefined;
}

/** The connections to one user@host:port, and the runs waiting for a session on one of them. */
interface HostPool<T> {
  connections: PooledConnection<T>[];
  waiting: (() => void)[];
}

export interface SessionPoolOptions<T> {
  /** Concurrent commands per connection (under sshd's MaxSessions). */
  maxSessions: number;
  /** Connections per key when every open one is busy. */
  maxConnections: number;
  idleMs: number;
  dispose(connection: T): void;
}

export class SessionPool<T> {
  private readonly hosts = new Map<string, HostPool<T>>();
  private closed = false;

  constructor(private readonly options: SessionPoolOptions<T>) {}

  /** A session on a connection for `key`, waiting while every allowed connection is full. */
  async slot(key: string): Promise<PooledConnection<T>> {
    let host = this.hosts.get(key);
    if (host === undefined) {
      host = { connections: [], waiting: [] };
      this.hosts.set(key, host);
    }
    for (;;) {
      const open = host.connections.filter((entry) => entry.active < this.options.maxSessions);
      const pooled =
        open.find((entry) => entry.ssh !== null && entry.active > 0) ??
        open.find((entry) => entry.ssh !== null) ??
        open[0] ??
        (host.connections.length < this.options.maxConnections ? added(host) : undefined);
      if (pooled) {
        clearTimeout(pooled.idle);
        pooled.idle = undefined;
        pooled.active += 1;
        return pooled;
      }
      const waitingHost = host;
      await new Promise<void>((resolve) => waitingHost.waiting.push(resolve));
    }
  }

  /** Gives the session back: to a waiting run, or, the connection idle, to the idle timer. */
  release(key: string, pooled: PooledConnection<T>): void {
    pooled.active -= 1;
    const host = this.hosts.get(key);
    const next = host?.waiting.shift();
    if (next) {
      next();
      return;
    }
    if (pooled.active > 0 || this.closed || !host) return;
    pooled.idle = setTimeout(() => {
      if (pooled.active > 0) return;
      host.connections = host.connections.filter((entry) => entry !== pooled);
      if (host.connections.length === 0 && host.waiting.length === 0 && this.hosts.get(key) === host) {
        this.hosts.delete(key);
      }
      pooled.ssh?.then((connected) => this.options.dispose(connected)).catch(() => undefined);
    }, this.options.idleMs);
    pooled.idle.unref();
  }

  /** Connections open or opening now. */
  openConnections(): number {
    let open = 0;
    for (const host of this.hosts.values())
      open += host.connections.filter((entry) => entry.ssh !== null).length;
    return open;
  }

  /** Forgets every connection and returns those open or opening, for the runner to end. */
  clear(): Promise<T>[] {
    this.closed = true;
    const connections = [...this.hosts.values()].flatMap((host) => host.connections);
    this.hosts.clear();
    for (const entry of connections) clearTimeout(entry.idle);
    return connections.flatMap((entry) => (entry.ssh === null ? [] : [entry.ssh]));
  }
}

function added<T>(host: HostPool<T>): PooledConnection<T> {
  const pooled: PooledConnection<T> = { ssh: null, active: 0, idle: undefined };
  host.connections.push(pooled);
  return pooled;
}
