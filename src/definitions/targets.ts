// Where a step runs, as data: an SSH host (maybe behind a jump host), or a host's BMC reached over
// IPMI or Redfish. The planner builds these from the inventory and the executors take them; both
// import them from here, so the planner needs nothing from executors/.
import type { IpmiAction, REDFISH_ACTIONS } from './schema.js';

export type { IpmiAction };

/** Where a command runs: a host name as the ticket and inventory name it, and how to reach it. */
export interface SshTarget {
  /** The name everyone uses (ticket, inventory, comment); host keys are looked up by this name. */
  host: string;
  /** Address to connect to; defaults to `host`. */
  address?: string;
  port: number;
  user: string;
  /** Reach the target through this bastion (an SSH `direct-tcpip` channel); its key is verified too. */
  jump?: JumpHost;
  /** How the site is reached: unset is node-ssh; `openssh` drives the OpenSSH client (host certificates). */
  transport?: 'openssh';
}

/** A bastion between the bot and a site's hosts, verified under its own name like any target. */
export interface JumpHost {
  host: string;
  address?: string;
  port: number;
  user: string;
}

/** The BMC of a host: `host` names the server, `address`/`port`/`user` reach its BMC over IPMI (lanplus). */
export interface BmcTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  /** Name of the environment variable holding the BMC password; the value never leaves the environment. */
  passwordEnv: string;
}

/** The actions are the runbook's: one list, in the definitions' schema. */
export type RedfishAction = (typeof REDFISH_ACTIONS)[number];

/** How the BMC's certificate is trusted: its SHA-256 fingerprint pinned, or a CA's PEM file. */
export type RedfishTrust = { fingerprint: string } | { ca: string } | { system: true };

/** The BMC of a host: `host` names the server, the rest reaches its Redfish service over HTTPS. */
export interface RedfishTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  /** Name of the environment variable holding the BMC password; the value never leaves the environment. */
  passwordEnv: string;
  trust: RedfishTrust;
  /** The ComputerSystem's Id when the service has several; default: the only member of Systems. */
  system?: string;
}
