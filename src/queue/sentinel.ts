// Redis through Sentinel, as users run it for high availability: the clients ask the sentinels which
// server is the master, and ask again when it fails over (REDIS_SENTINELS, REDIS_SENTINEL_NAME).
// Without sentinels, REDIS_URL names the server; with them, REDIS_URL still gives the password, the
// database and TLS (rediss://), and its host and port are not used.

export interface SentinelSettings {
  sentinels: HostPort[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
}

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port,host:port` → the list ioredis takes; throws naming the entry that is not one. */
export function parseSentinels(value: string): SentinelSettings['sentinels'] {
  return parseHostPorts(value, 'sentinel-1.internal:26379');
}

/** `host:port,host:port` → a list; throws naming the entry that is not one (with `example`). */
export function parseHostPorts(value: string, example: string): HostPort[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[2]) : NaN;
      if (!match || port < 1 || port > 65535)
        throw new Error(`"${entry}" is not host:port (e.g. ${example})`);
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
    });
}

/** The ioredis options that make a client follow the sentinels (none without sentinels). */
export interface SentinelClientOptions {
  sentinels?: SentinelSettings['sentinels'];
  name?: string;
  reconnectOnError?: (error: Error) => boolean | 1 | 2;
}

export function sentinelOptions(settings: SentinelSettings | undefined): SentinelClientOptions {
  if (settings === undefined || settings.sentinels.length === 0) return {};
  return {
    sentinels: settings.sentinels,
    name: settings.name,
    // A master demoted by `SENTINEL FAILOVER` keeps its connections open and answers writes with
    // READONLY: reconnect (the sentinels then name the new master) and send the command again.
    // (ioredis' `failoverDetector` is left off: with it, workers stalled after a failover here.)
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}
