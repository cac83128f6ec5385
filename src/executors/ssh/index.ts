// The SSH executor's public surface.
export { SshRunner, wrapWithTimeout, type SshRunnerOptions } from './ssh-runner.js';
export {
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshConnectError,
  type HostKeyError,
  type SshConnectFailure,
} from './errors.js';
export {
  checkHostKey,
  knownHostsName,
  parseKnownHosts,
  sha256Fingerprint,
  type HostKeyCheck,
  type KnownHostEntry,
  type KnownHosts,
} from './known-hosts.js';
