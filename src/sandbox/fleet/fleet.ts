// The simulated fleet: one ssh2 Server per simulated host, each on its own loopback address
// (127.10.x.y; all of 127.0.0.0/8 reaches lo on Linux) and all on one port, like a real fleet on
// port 22, sharing one host key and one authorised client key. The address a connection arrived on
// tells which logical host it is for (memcheck runs *on* the host, and nothing in the command names
// it); the inventory reaches the hosts by name through the hosts file the sandbox writes.
// Over 300 lines on purpose: one class owns the fleet's listeners, connections, timers and command
// log, which stop() must end together; what a command means (command-line.ts) and how a host
// behaves (profile.ts) already live apart.
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, ServerChannel, Session } from 'ssh2';
import type { SshTarget } from '../../executors/types.js';
import { readCommandLine } from './command-line.js';
import { DEFAULT_FLEET_PROFILE, replyTo, subjectOf } from './profile.js';
import type { FleetProfile, HostRole, HostState, Reply } from './profile.js';

export interface FleetCommand {
  /** The logical host the command ran on (the name given to `addHost`). */
  host: string;
  /**
   * The host the command is about: `host` itself, or for a manager command naming a node
   * (`storage-sync --node db-1`, `blacklist remove db-1.site.example`) the fleet host it names
   * (a short name is looked up in the manager's domain), else the name as written.
   */
  subject: string;
  /** The SSH user the client logged in as. */
  user: string;
  /** The inner command, after the `timeout … sh -c` wrappers, words joined by single spaces. */
  command: string;
  /** The command line exactly as exec'd. */
  raw: string;
  /** When the exec request arrived (ms since the epoch). */
  at: number;
  /** null while running, or when it never finished (channel closed, connection lost, signal). */
  exitCode: number | null;
  state: 'running' | 'exited' | 'abandoned';
}

export interface Fleet {
  /** The authorised client's private key, OpenSSH format (node-ssh `privateKey`). */
  clientPrivateKey: string;
  /** The shared host key, `ssh-ed25519 AAAA…`. */
  hostPublicKey: string;
  /** Starts a listener for the host on an address of its own (idempotent) and returns the address. */
  addHost(name: string, options?: { role?: HostRole }): Promise<string>;
  /** The port every host listens on (known once the first host is added). */
  portOf(name: string): number | undefined;
  /** The host's loopback address. */
  addressOf(name: string): string | undefined;
  /** `ADDRESS NAME`, the host's line in a hosts file (RUNBOT_HOSTS_FILE). */
  hostsLine(name: string): string;
  /** Where the runner should connect for this host; throws for a host never added. */
  targetOf(name: string, user?: string): SshTarget;
  /** `[<name>]:PORT ssh-ed25519 …`: pinned by logical name, since that is how host keys are looked up. */
  knownHostsLine(name: string): string;
  /** Every exec request so far, in arrival order (copies). */
  commands(): FleetCommand[];
  /** How many exec requests on `host` had an inner command matching `pattern` (substring or RegExp). */
  count(host: string, pattern: RegExp | string): number;
  /** Same, for commands about `subject` wherever they ran (a node's sync runs on its manager). */
  countAbout(subject: string, pattern: RegExp | string): number;
  /** Closes every listener and connection and cancels every pending reply. */
  stop(): Promise<void>;
}

export interface StartFleetOptions {
  profile?: Partial<FleetProfile>;
}

/** Host n (from 0) listens on 127.10.(n / 254).(n % 254 + 1): 64,770 hosts before it runs out. */
export function fleetAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 255 * 254) {
    throw new RangeError(`the simulated fleet has room for ${255 * 254} hosts, not host #${index + 1}`);
  }
  return `127.10.${Math.floor(index / 254)}.${(index % 254) + 1}`;
}

const TIMEOUT_EXIT_CODE = 124;

interface SimulatedHost {
  state: HostState;
  server: ssh2.Server;
  address: string;
}

/**
 * ssh2's generateKeyPairSync('ed25519') drops a leading zero byte of the public key about 1 time in
 * 250, writing a 31-byte key its own parser then rejects ("Malformed OpenSSH public key"); draw again.
 */
function generateEd25519(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    if (
      !(ssh2.utils.parseKey(keys.public) instanceof Error) &&
      !(ssh2.utils.parseKey(keys.private) instanceof Error)
    ) {
      return keys;
    }
  }
  throw new Error('could not generate a well-formed ed25519 key pair');
}

export function startFleet(options: StartFleetOptions = {}): Promise<Fleet> {
  return Promise.resolve(new SimulatedFleet({ ...DEFAULT_FLEET_PROFILE, ...options.profile }));
}

class SimulatedFleet implements Fleet {
  readonly clientPrivateKey: string;
  readonly hostPublicKey: string;
  private readonly hostPrivateKey: string;
  private readonly clientKey: ParsedKey;
  private readonly hosts = new Map<string, SimulatedHost>();
  private readonly pendingHosts = new Map<string, Promise<string>>();
  /** The one port, chosen by the kernel for the first host; every other host listens on it too. */
  private port: Promise<number> | undefined;
  private knownPort: number | undefined;
  private added = 0;
  private readonly connections = new Set<Connection>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: FleetCommand[] = [];
  private bySubject: { size: number; entries: Map<string, FleetCommand[]> } | undefined;
  private stopped = false;

  constructor(private readonly profile: FleetProfile) {
    const hostKeys = generateEd25519();
    const clientKeys = generateEd25519();
    this.hostPrivateKey = hostKeys.private;
    this.hostPublicKey = hostKeys.public;
    this.clientPrivateKey = clientKeys.private;
    const parsed = ssh2.utils.parseKey(clientKeys.public);
    if (parsed instanceof Error) throw parsed;
    this.clientKey = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  }

  addHost(name: string, options: { role?: HostRole } = {}): Promise<string> {
    if (this.stopped) return Promise.reject(new Error('fleet is stopped'));
    const existing = this.hosts.get(name);
    if (existing) return Promise.resolve(existing.address);
    const pending = this.pendingHosts.get(name);
    if (pending) return pending;
    const address = fleetAddress(this.added);
    this.added += 1;
    const state: HostState = { name, role: options.role ?? 'any', unlisted: new Set() };
    const starting = this.listen(state, address).finally(() => this.pendingHosts.delete(name));
    this.pendingHosts.set(name, starting);
    return starting;
  }

  portOf(name: string): number | undefined {
    return this.hosts.has(name) ? this.knownPort : undefined;
  }

  addressOf(name: string): string | undefined {
    return this.hosts.get(name)?.address;
  }

  hostsLine(name: string): string {
    return `${this.require(name).address} ${name}`;
  }

  targetOf(name: string, user = 'runbot'): SshTarget {
    const { address } = this.require(name);
    return { host: name, address, port: this.knownPort ?? 0, user };
  }

  knownHostsLine(name: string): string {
    this.require(name);
    return `[${name}]:${this.knownPort ?? 0} ${this.hostPublicKey}`;
  }

  commands(): FleetCommand[] {
    return this.log.map((entry) => ({ ...entry }));
  }

  count(host: string, pattern: RegExp | string): number {
    const matches = (command: string): boolean =>
      typeof pattern === 'string'
        ? command.includes(pattern)
        : new RegExp(pattern.source, pattern.flags).test(command);
    return this.log.filter((entry) => entry.host === host && matches(entry.command)).length;
  }

  countAbout(subject: string, pattern: RegExp | string): number {
    const matches = (command: string): boolean =>
      typeof pattern === 'string'
        ? command.includes(pattern)
        : new RegExp(pattern.source, pattern.flags).test(command);
    return this.aboutSubject(subject).filter((entry) => matches(entry.command)).length;
  }

  /**
   * The log's entries about `subject`, from an index rebuilt when the log has grown (an entry's
   * subject is set as it is logged), so an audit of 10,000 tickets reads the log once, not per ticket.
   */
  private aboutSubject(subject: string): FleetCommand[] {
    if (this.bySubject?.size !== this.log.length) {
      const entries = new Map<string, FleetCommand[]>();
      for (const entry of this.log) {
        const list = entries.get(entry.subject);
        if (list) list.push(entry);
        else entries.set(entry.subject, [entry]);
      }
      this.bySubject = { size: this.log.length, entries };
    }
    return this.bySubject.entries.get(subject) ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.pendingHosts.values());
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const connection of this.connections) connection.end();
    await Promise.all(
      [...this.hosts.values()].map(
        ({ server }) => new Promise<void>((resolve) => server.close(() => resolve())),
      ),
    );
    this.hosts.clear();
  }

  private require(name: string): SimulatedHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`simulated fleet has no host ${name}: call addHost first`);
    return host;
  }

  /**
   * Listens for the host on its address and the fleet's port. The first host's listener picks the
   * port (any free one); the others bind it on their own addresses. Fleets in other processes start
   * at the same first address, so the kernel never gives two fleets the same port.
   */
  private async listen(state: HostState, address: string): Promise<string> {
    const server = new ssh2.Server({ hostKeys: [this.hostPrivateKey] }, (connection) =>
      this.accept(state, connection),
    );
    const first = this.port === undefined;
    const bound = (async () => {
      const port = first ? 0 : await (this.port as Promise<number>);
      await new Promise<void>((resolve, reject) => {
        const failed = (error: Error): void =>
          reject(
            new Error(
              `simulated fleet: ${state.name} cannot listen on ${address}:${port}: ${error.message}`,
              {
                cause: error,
              },
            ),
          );
        server.once('error', failed);
        server.listen(port, address, () => {
          server.off('error', failed);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    })();
    if (first) this.port = bound;
    const port = await bound;
    this.knownPort ??= port;
    this.hosts.set(state.name, { state, server, address });
    return address;
  }

  private accept(host: HostState, connection: Connection): void {
    if (this.stopped) {
      connection.end();
      return;
    }
    this.connections.add(connection);
    // Nagle plus delayed ACKs costs ~40 ms per round trip on loopback; replies are tiny.
    // (ssh2's server Connection has setNoDelay; @types/ssh2 only declares it on the Client.)
    (connection as Connection & { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    let user = '';
    // ssh2 does not close a server channel when the socket drops, so cut in-flight commands here.
    const inFlight = new Set<() => void>();
    // A client that goes away mid-handshake emits 'error'; it must not crash the process.
    connection.on('error', () => undefined);
    connection.on('close', () => {
      this.connections.delete(connection);
      for (const abandon of inFlight) abandon();
    });
    connection.on('authentication', (context) => {
      if (this.authorised(context)) {
        user = context.username;
        context.accept();
      } else {
        context.reject(['publickey']);
      }
    });
    connection.on('ready', () => {
      connection.on('session', (acceptSession) =>
        this.serveSession(host, () => user, acceptSession(), inFlight),
      );
    });
  }

  private authorised(context: AuthContext): boolean {
    if (context.method !== 'publickey') return false;
    const expected = this.clientKey.getPublicSSH();
    const offered = context.key.data;
    if (context.key.algo !== this.clientKey.type) return false;
    if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) return false;
    // Without a signature the client only asks whether the key would do; with one, check it.
    if (context.signature === undefined || context.blob === undefined) return true;
    return this.clientKey.verify(context.blob, context.signature, context.hashAlgo);
  }

  private serveSession(
    host: HostState,
    user: () => string,
    session: Session,
    inFlight: Set<() => void>,
  ): void {
    session.on('env', (accept) => accept?.());
    session.on('pty', (accept) => accept?.());
    session.on('shell', (_accept, reject) => reject());
    session.on('exec', (accept, _reject, info) => {
      const channel = accept();
      const entry: FleetCommand = {
        host: host.name,
        subject: host.name,
        user: user(),
        command: info.command,
        raw: info.command,
        at: Date.now(),
        exitCode: null,
        state: 'running',
      };
      this.log.push(entry);
      this.execute(host, entry, channel, session, inFlight);
    });
  }

  private execute(
    host: HostState,
    entry: FleetCommand,
    channel: ServerChannel,
    session: Session,
    inFlight: Set<() => void>,
  ): void {
    const parsed = readCommandLine(entry.raw);
    if (!parsed.ok) {
      this.finish(entry, channel, { exitCode: 2, stderr: `sh: 1: ${parsed.reason}\n` });
      return;
    }
    const { command, timeoutMs } = parsed.line;
    entry.command = command;
    entry.subject = this.subjectOf(host, command);
    const reply = replyTo(command, host, this.profile, entry.at);
    const delayMs = reply.afterMs ?? 0;
    const timesOut = timeoutMs !== undefined && delayMs > timeoutMs;
    const outcome: Reply = timesOut ? { exitCode: TIMEOUT_EXIT_CODE } : reply;
    if (!timesOut && delayMs === 0) {
      this.finish(entry, channel, outcome);
      return;
    }
    // Long commands reply later; if the client hangs up or signals first, the reply (and its
    // effect) never happens, like a process killed mid-run.
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        inFlight.delete(abandon);
        this.finish(entry, channel, outcome);
      },
      timesOut ? timeoutMs : delayMs,
    );
    this.timers.add(timer);
    const abandon = (signal?: string): void => {
      if (entry.state !== 'running') return;
      clearTimeout(timer);
      this.timers.delete(timer);
      inFlight.delete(abandon);
      entry.state = 'abandoned';
      if (signal !== undefined) channel.exit(signal, false, '');
      channel.end();
    };
    inFlight.add(abandon);
    channel.on('close', () => abandon());
    session.on('signal', (accept, _reject, info) => {
      accept?.();
      abandon(info.name);
    });
  }

  private subjectOf(host: HostState, command: string): string {
    const named = subjectOf(command);
    if (named === undefined) return host.name;
    if (this.hosts.has(named)) return named;
    const domain = host.name.slice(host.name.indexOf('.') + 1);
    const inDomain = `${named}.${domain}`;
    return host.name.includes('.') && this.hosts.has(inDomain) ? inDomain : named;
  }

  private finish(entry: FleetCommand, channel: ServerChannel, reply: Reply): void {
    if (entry.state !== 'running') return;
    reply.effect?.();
    entry.exitCode = reply.exitCode;
    entry.state = 'exited';
    if (reply.stdout) channel.write(reply.stdout);
    if (reply.stderr) channel.stderr.write(reply.stderr);
    channel.exit(reply.exitCode);
    channel.end();
  }
}
