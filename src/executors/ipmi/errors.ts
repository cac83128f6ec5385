// Typed IPMI errors, classified from ipmitool's output at the executor's edge: bad credentials and a
// missing password are not retried (a person must fix them); an unreachable BMC is.
import { BmcError, type BmcFields } from '../bmc-error.js';

/** The BMC answered and refused the user or password (RAKP 2 errors). */
export class IpmiAuthError extends BmcError {
  override readonly name = 'IpmiAuthError';

  constructor(fields: BmcFields & { passwordEnv: string; detail: string }) {
    super(
      fields,
      `The BMC of ${fields.host} (${fields.address}:${fields.port}) refused user "${fields.user}" (${fields.detail}). ` +
        `Check the site's ipmi.user in the inventory and the password in $${fields.passwordEnv}; nothing was done.`,
    );
  }
}

/** No IPMI session could be opened because the BMC did not answer (wrong address, down, firewalled). */
export class IpmiUnreachableError extends BmcError {
  override readonly name = 'IpmiUnreachableError';

  constructor(fields: BmcFields & { detail: string }) {
    super(
      fields,
      `The BMC of ${fields.host} at ${fields.address}:${fields.port} did not answer (${fields.detail}). ` +
        `Check that the address is right and that this worker can reach it over UDP; nothing was done.`,
    );
  }
}

/** The password variable named by the inventory is not set in the worker's environment. */
export class IpmiPasswordMissingError extends BmcError {
  override readonly name = 'IpmiPasswordMissingError';
  readonly passwordEnv: string;

  constructor(fields: BmcFields & { passwordEnv: string }) {
    super(
      fields,
      `The environment variable ${fields.passwordEnv} (the BMC password for ${fields.host}) is not set in ` +
        `this worker; set it and move the ticket back to its status. Nothing was done.`,
    );
    this.passwordEnv = fields.passwordEnv;
  }
}

/** ipmitool could not be started at all (not installed). */
export class IpmiToolMissingError extends BmcError {
  override readonly name = 'IpmiToolMissingError';

  constructor(fields: BmcFields & { binary: string }, cause: unknown) {
    super(fields, `Could not start ${fields.binary}: install ipmitool on this worker.`, { cause });
  }
}

/** What ipmitool's stderr says about a failed session; undefined when it is not a session failure. */
export function classifySessionFailure(
  stderr: string,
): { kind: 'auth' | 'unreachable'; detail: string } | undefined {
  const auth = /RAKP \d (?:HMAC is invalid|message indicates an error : [^\n]*)/.exec(stderr);
  if (auth) return { kind: 'auth', detail: auth[0].trim() };
  if (/Unable to establish IPMI v2 \/ RMCP\+ session|Get Auth Capabilities error|No response/.test(stderr)) {
    return { kind: 'unreachable', detail: 'no IPMI session: the BMC did not answer' };
  }
  return undefined;
}
