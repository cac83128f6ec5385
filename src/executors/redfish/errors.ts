// Typed Redfish errors, classified at the executor's edge: a refused password, a missing password and
// an untrusted certificate are not retried (a person must fix them); an unreachable BMC is.
import { BmcError, type BmcFields } from '../bmc-error.js';

/** The BMC answered the session login with 401/403: the user or password is wrong. */
export class RedfishAuthError extends BmcError {
  override readonly name = 'RedfishAuthError';

  constructor(fields: BmcFields & { passwordEnv: string; status: number }) {
    super(
      fields,
      `The Redfish service of ${fields.host} (https://${fields.address}:${fields.port}) refused user "${fields.user}" (HTTP ${fields.status} on session login). ` +
        `Check the site's redfish.user in the inventory and the password in $${fields.passwordEnv}; nothing was done.`,
    );
  }
}

/** The password variable named by the inventory is not set in the worker's environment. */
export class RedfishPasswordMissingError extends BmcError {
  override readonly name = 'RedfishPasswordMissingError';
  readonly passwordEnv: string;

  constructor(fields: BmcFields & { passwordEnv: string }) {
    super(
      fields,
      `The environment variable ${fields.passwordEnv} (the Redfish password for the BMC of ${fields.host}) is not set in ` +
        `this worker; set it and move the ticket back to its status. Nothing was done.`,
    );
    this.passwordEnv = fields.passwordEnv;
  }
}

/** No HTTPS connection could be made: refused, no route, unknown name, or no answer to connect. */
export class RedfishUnreachableError extends BmcError {
  override readonly name = 'RedfishUnreachableError';

  constructor(fields: BmcFields & { detail: string }, cause?: unknown) {
    super(
      fields,
      `The Redfish service of ${fields.host} at https://${fields.address}:${fields.port} could not be reached (${fields.detail}). ` +
        `Check that the address is right and that this worker can reach it over HTTPS; nothing was done.`,
      { cause },
    );
  }
}

/** The BMC's certificate is not the pinned one, or does not chain to the configured CA. */
export class RedfishCertificateError extends BmcError {
  override readonly name = 'RedfishCertificateError';
  /** SHA-256 fingerprint of the certificate the BMC offered (AA:BB:…). */
  readonly fingerprint: string;

  constructor(fields: BmcFields & { fingerprint: string; detail: string }) {
    super(
      fields,
      `The certificate of the Redfish service of ${fields.host} (https://${fields.address}:${fields.port}) is not trusted: ${fields.detail}. ` +
        `It offered SHA-256 ${fields.fingerprint}. Verify the certificate out of band (a replaced board gets a new one), then pin it ` +
        `(redfish.fingerprint in the inventory) or sign it with the site's CA (redfish.ca); nothing was sent.`,
    );
    this.fingerprint = fields.fingerprint;
  }
}

/** One call to the BMC did not get an answer within the step's timeout. */
export class RedfishTimeoutError extends Error {
  override readonly name = 'RedfishTimeoutError';
  constructor(
    readonly request: string,
    readonly timeoutSeconds: number,
  ) {
    super(`The BMC did not answer ${request} within ${timeoutSeconds} s.`);
  }
}

/** The BMC answered a call with an error status or a body that is not the Redfish resource expected. */
export class RedfishProtocolError extends Error {
  override readonly name = 'RedfishProtocolError';
  constructor(
    readonly request: string,
    detail: string,
  ) {
    super(`${request}: ${detail}`);
  }
}
