// The base of the BMC executors' typed errors (IPMI, Redfish): which BMC, of which host, as whom.

export interface BmcFields {
  host: string;
  address: string;
  port: number;
  user: string;
}

export abstract class BmcError extends Error {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;

  constructor(fields: BmcFields, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.host = fields.host;
    this.address = fields.address;
    this.port = fields.port;
    this.user = fields.user;
  }
}
