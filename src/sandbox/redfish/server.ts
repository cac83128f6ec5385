// A simulated BMC speaking Redfish over HTTPS on loopback, for the demo and the tests: session login
// (X-Auth-Token), power through ComputerSystem.Reset, a one-time boot override, the SEL with
// ClearLog, and Memory/Processors health. DMTF's redfishtool reads and drives it
// (test/integration/redfish-sim.test.ts). Not a conformance suite: the parts runbot uses, shaped right.
// Here: HTTPS, login and sessions, the call log; what each method and path does is in routes.ts,
// the resources' bodies in resources.ts.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { makeBmcCertificate, type BmcCertificate } from './cert.js';
import * as resource from './resources.js';
import { route } from './routes.js';
import type { BmcState, Health, PowerState } from './resources.js';

export interface RedfishSimulatorOptions {
  user?: string;
  password?: string;
  /** A certificate to serve (tests pass one to present "another" BMC's); default a fresh one. */
  certificate?: BmcCertificate;
  systemId?: string;
}

export interface RedfishCall {
  method: string;
  path: string;
  status: number;
  /** The body sent, for actions and PATCHes; never a login's (it holds the password). */
  body?: unknown;
}

export class RedfishSimulator {
  readonly user: string;
  readonly password: string;
  readonly state: BmcState;
  private certificate: BmcCertificate | undefined;
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly tokens = new Map<string, { id: string; user: string }>();
  private readonly log: RedfishCall[] = [];
  private stallPattern: RegExp | undefined;
  private listenPort = 0;

  constructor(private readonly options: RedfishSimulatorOptions = {}) {
    this.user = options.user ?? 'admin';
    this.password = options.password ?? randomBytes(9).toString('base64url');
    this.state = {
      systemId: options.systemId ?? '1',
      power: 'On',
      boot: { target: 'None', enabled: 'Disabled' },
      memory: [
        { id: 'DIMM0', health: 'OK', state: 'Enabled' },
        { id: 'DIMM1', health: 'OK', state: 'Enabled' },
        { id: 'DIMM2', health: 'OK', state: 'Absent' },
      ],
      processors: [
        { id: 'CPU0', health: 'OK' },
        { id: 'CPU1', health: 'OK' },
      ],
      sel: [
        {
          id: '1',
          created: '2026-11-30T22:14:03Z',
          severity: 'Critical',
          message: 'Memory DIMM1 uncorrectable ECC error',
        },
        { id: '2', created: '2026-12-01T01:02:11Z', severity: 'OK', message: 'Memory DIMM1 replaced' },
      ],
    };
  }

  get port(): number {
    return this.listenPort;
  }

  get fingerprint(): string {
    if (!this.certificate) throw new Error('redfish simulator: not started');
    return this.certificate.fingerprint;
  }

  /** The served certificate (PEM), e.g. to trust it as a CA in a test. */
  get certificatePem(): string {
    if (!this.certificate) throw new Error('redfish simulator: not started');
    return this.certificate.cert;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<number> {
    this.certificate = this.options.certificate ?? (await makeBmcCertificate());
    const server = https.createServer(
      { key: this.certificate.key, cert: this.certificate.cert },
      (req, res) => {
        void this.handle(req, res);
      },
    );
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.listen(port, host);
    await once(server, 'listening');
    this.server = server;
    this.listenPort = (server.address() as AddressInfo).port;
    return this.listenPort;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  }

  /** Requests whose path matches are held without an answer (until stop), to test timeouts. */
  stall(pattern: RegExp | undefined): void {
    this.stallPattern = pattern;
  }

  calls(): RedfishCall[] {
    return this.log.map((call) => ({ ...call }));
  }

  /** Sessions open now (a client that logs out leaves none). */
  openSessions(): number {
    return this.tokens.size;
  }

  setPower(power: PowerState): void {
    this.state.power = power;
  }

  setHealth(kind: 'memory' | 'processors', id: string, health: Health): void {
    const part = this.state[kind].find((item) => item.id === id);
    if (!part) throw new Error(`redfish simulator: no ${kind} ${id}`);
    part.health = health;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'https://bmc').pathname.replace(/\/+$/, '') || '/';
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      this.reply(
        res,
        { method, path },
        400,
        resource.errorBody('MalformedJSON', 'The request body is not JSON.'),
      );
      return;
    }
    if (this.stallPattern?.test(path)) return; // held: the client's deadline must end it
    const call = { method, path, ...(body !== undefined && !path.endsWith('/Sessions') ? { body } : {}) };
    if (path === '/redfish' && method === 'GET') return this.reply(res, call, 200, { v1: '/redfish/v1/' });
    if (path === resource.ROOT && method === 'GET') return this.reply(res, call, 200, resource.serviceRoot());
    if (path === `${resource.ROOT}/SessionService/Sessions` && method === 'POST')
      return this.login(res, call, body);
    const user = this.authenticate(req);
    if (!user) {
      return this.reply(
        res,
        call,
        401,
        resource.errorBody('NoValidSession', 'No valid session or credentials.'),
      );
    }
    const [status, answer, headers] = route({ state: this.state, tokens: this.tokens }, method, path, body);
    this.reply(res, call, status, answer, headers);
  }

  private login(res: ServerResponse, call: Omit<RedfishCall, 'status'>, body: unknown): void {
    const credentials = (body ?? {}) as { UserName?: unknown; Password?: unknown };
    if (
      typeof credentials.UserName !== 'string' ||
      typeof credentials.Password !== 'string' ||
      !same(credentials.UserName, this.user) ||
      !same(credentials.Password, this.password)
    ) {
      return this.reply(
        res,
        call,
        401,
        resource.errorBody('InsufficientPrivilege', 'Invalid user name or password.'),
      );
    }
    const id = randomUUID();
    const token = randomBytes(24).toString('hex');
    this.tokens.set(token, { id, user: credentials.UserName });
    const location = `${resource.ROOT}/SessionService/Sessions/${id}`;
    this.reply(res, call, 201, resource.session(id, credentials.UserName), {
      'X-Auth-Token': token,
      Location: location,
    });
  }

  /** X-Auth-Token of an open session, or HTTP Basic (Redfish allows both). */
  private authenticate(req: IncomingMessage): string | undefined {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string') return this.tokens.get(token)?.user;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!basic) return undefined;
    const [user, ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
    return user !== undefined && same(user, this.user) && same(rest.join(':'), this.password)
      ? user
      : undefined;
  }

  private reply(
    res: ServerResponse,
    call: Omit<RedfishCall, 'status'>,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.log.push({ ...call, status });
    const payload = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'OData-Version': '4.0',
      ...(payload ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
      ...headers,
    });
    res.end(payload);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
