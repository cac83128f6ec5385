// One Redfish session over HTTPS, with Node's own tls and https modules (no npm package: they do the
// pinning and CA checks we need, and undici's fetch cannot show the peer certificate before sending).
// Each call opens its own TLS connection, checks the BMC's certificate before a byte is written,
// and has its own deadline. Sessions follow DSP0266 §13.3: POST the credentials to the service
// root's Links.Sessions, send X-Auth-Token after, DELETE the session's Location at the end.
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { RedfishTarget } from './types.js';
import {
  RedfishAuthError,
  RedfishCertificateError,
  RedfishProtocolError,
  RedfishTimeoutError,
  RedfishUnreachableError,
} from './errors.js';

/** A Redfish resource as JSON; only the fields a caller reads are looked at. */
export type RedfishResource = Record<string, unknown>;

export interface RedfishResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: RedfishResource | undefined;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const SERVICE_ROOT = '/redfish/v1';

/** SHA-256 fingerprints compare as upper-case hex without separators ("ab:cd" = "ABCD"). */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

export class RedfishSession {
  /** The calls made, one line each (`GET /redfish/v1/Systems → 200`), for the ticket comment. */
  readonly log: string[] = [];
  private token: string | undefined;
  private sessionPath: string | undefined;

  constructor(
    private readonly target: RedfishTarget,
    private readonly options: { timeoutSeconds: number; ca?: string | undefined },
  ) {}

  /** Logs in: reads the service root (unauthenticated), then POSTs the credentials to its Sessions. */
  async open(password: string): Promise<RedfishResource> {
    const root = await this.get(SERVICE_ROOT);
    const sessions = linkOf(root, ['Links', 'Sessions']) ?? `${SERVICE_ROOT}/SessionService/Sessions`;
    const login = await this.call('POST', sessions, { UserName: this.target.user, Password: password });
    if (login.status === 401 || login.status === 403) {
      throw new RedfishAuthError({
        ...this.fields(),
        passwordEnv: this.target.passwordEnv,
        status: login.status,
      });
    }
    const token = header(login, 'x-auth-token');
    if (login.status >= 300 || !token) {
      throw new RedfishProtocolError(
        `POST ${sessions}`,
        `the session login answered HTTP ${login.status}${token ? '' : ' without an X-Auth-Token'}`,
      );
    }
    this.token = token;
    const location = header(login, 'location');
    this.sessionPath = location ? new URL(location, 'https://bmc').pathname : undefined;
    return root;
  }

  /** Ends the session; a failure here is only logged in the call list (the action already happened). */
  async close(): Promise<void> {
    if (!this.token || !this.sessionPath) return;
    try {
      await this.call('DELETE', this.sessionPath);
    } catch (error) {
      this.log.push(`DELETE ${this.sessionPath} → failed (${(error as Error).message})`);
    } finally {
      this.token = undefined;
    }
  }

  /** GET a resource; anything but 200 with a JSON object is an error naming the request. */
  async get(path: string): Promise<RedfishResource> {
    const response = await this.call('GET', path);
    if (response.status !== 200 || !response.body) {
      throw new RedfishProtocolError(
        `GET ${path}`,
        `expected 200 with a JSON resource, got HTTP ${response.status}`,
      );
    }
    return response.body;
  }

  /** POST an action or PATCH a resource; 200, 202 and 204 are success (DSP0266 §7.9, §7.10). */
  async send(
    method: 'POST' | 'PATCH',
    path: string,
    body: RedfishResource,
    headers: Record<string, string> = {},
  ): Promise<RedfishResponse> {
    const response = await this.call(method, path, body, headers);
    if (![200, 201, 202, 204].includes(response.status)) {
      const message = extendedMessage(response.body);
      throw new RedfishProtocolError(
        `${method} ${path}`,
        `the BMC answered HTTP ${response.status}${message ? ` (${message})` : ''}`,
      );
    }
    return response;
  }

  async getWithEtag(path: string): Promise<{ body: RedfishResource; etag: string | undefined }> {
    const response = await this.call('GET', path);
    if (response.status !== 200 || !response.body) {
      throw new RedfishProtocolError(
        `GET ${path}`,
        `expected 200 with a JSON resource, got HTTP ${response.status}`,
      );
    }
    return { body: response.body, etag: header(response, 'etag') };
  }

  private fields() {
    const { host, address, port, user } = this.target;
    return { host, address, port, user };
  }

  private async call(
    method: string,
    path: string,
    body?: RedfishResource,
    extraHeaders: Record<string, string> = {},
  ): Promise<RedfishResponse> {
    const request = `${method} ${path}`;
    const deadline = AbortSignal.timeout(this.options.timeoutSeconds * 1000);
    const socket = await this.connect(deadline);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const response = await new Promise<RedfishResponse>((resolve, reject) => {
      const onAbort = () => {
        socket.destroy();
        reject(new RedfishTimeoutError(request, this.options.timeoutSeconds));
      };
      deadline.addEventListener('abort', onAbort, { once: true });
      const req = https.request(
        {
          method,
          path,
          createConnection: () => socket,
          headers: {
            Host: net.isIPv6(this.target.address)
              ? `[${this.target.address}]:${this.target.port}`
              : `${this.target.address}:${this.target.port}`,
            Accept: 'application/json',
            'OData-Version': '4.0',
            Connection: 'close',
            ...(payload !== undefined
              ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
              : {}),
            ...(this.token ? { 'X-Auth-Token': this.token } : {}),
            ...extraHeaders,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
          });
          res.once('error', reject);
          res.once('end', () => {
            deadline.removeEventListener('abort', onAbort);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text.trim() === '' ? undefined : JSON.parse(text);
            } catch {
              reject(new RedfishProtocolError(request, `the answer (HTTP ${res.statusCode}) is not JSON`));
              return;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: isObject(parsed) ? parsed : undefined,
            });
          });
        },
      );
      req.once('error', (error) => {
        deadline.removeEventListener('abort', onAbort);
        if (!deadline.aborted)
          reject(new RedfishProtocolError(request, `the connection failed: ${error.message}`));
      });
      req.end(payload);
    });
    // Never the login body: it carries the password.
    this.log.push(`${request} → ${response.status}`);
    return response;
  }

  /** A TLS connection whose certificate is checked (pinned fingerprint, or CA and name) before use. */
  private connect(deadline: AbortSignal): Promise<tls.TLSSocket> {
    const { address, port } = this.target;
    const trust = this.target.trust;
    return new Promise((resolve, reject) => {
      // Verification is ours (below), so a pinned self-signed certificate can be accepted and a
      // mismatch reported with the fingerprint seen; the CA chain and name are still checked by Node.
      const socket = tls.connect({
        host: address,
        port,
        ...(net.isIP(address) ? {} : { servername: address }),
        rejectUnauthorized: false,
        ...('ca' in trust && this.options.ca ? { ca: this.options.ca } : {}),
        ALPNProtocols: ['http/1.1'],
      });
      const onAbort = () => {
        socket.destroy();
        reject(
          new RedfishUnreachableError({
            ...this.fields(),
            detail: `no TLS connection within ${this.options.timeoutSeconds} s`,
          }),
        );
      };
      deadline.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        deadline.removeEventListener('abort', onAbort);
        reject(new RedfishUnreachableError({ ...this.fields(), detail: error.code ?? error.message }, error));
      });
      socket.once('secureConnect', () => {
        deadline.removeEventListener('abort', onAbort);
        const fingerprint = socket.getPeerCertificate().fingerprint256 ?? 'none';
        const problem = certificateProblem(trust, socket, fingerprint);
        if (problem) {
          socket.destroy();
          reject(new RedfishCertificateError({ ...this.fields(), fingerprint, detail: problem }));
          return;
        }
        // The error listener above stays: once settled it does nothing, and it keeps a late socket
        // error from being unhandled before the request attaches its own.
        resolve(socket);
      });
    });
  }
}

function certificateProblem(
  trust: RedfishTarget['trust'],
  socket: tls.TLSSocket,
  fingerprint: string,
): string | undefined {
  if ('fingerprint' in trust) {
    return normalizeFingerprint(fingerprint) === normalizeFingerprint(trust.fingerprint)
      ? undefined
      : `it is not the pinned certificate (redfish.fingerprint ${trust.fingerprint})`;
  }
  if (socket.authorized) return undefined;
  const reason = String(socket.authorizationError ?? 'unknown reason');
  return 'ca' in trust
    ? `it does not verify against the CA in redfish.ca (${reason})`
    : `it does not verify against the system's CAs (${reason}); pin it or name the CA`;
}

function header(response: RedfishResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is RedfishResource {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A link `{ "@odata.id": "/redfish/v1/…" }` at the given path of a resource. */
export function linkOf(resource: RedfishResource, path: string[]): string | undefined {
  let node: unknown = resource;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  const id = isObject(node) ? node['@odata.id'] : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** The first message of a Redfish error body (`error.@Message.ExtendedInfo[0].Message`). */
function extendedMessage(body: RedfishResource | undefined): string | undefined {
  const error = body?.error;
  if (!isObject(error)) return undefined;
  const info = error['@Message.ExtendedInfo'];
  const first: unknown = Array.isArray(info) ? info[0] : undefined;
  if (isObject(first) && typeof first.Message === 'string') return first.Message;
  return typeof error.message === 'string' ? error.message : undefined;
}
