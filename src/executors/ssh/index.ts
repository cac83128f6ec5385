// The SSH executor's public surface.
export { SshRunner, wrapWithTimeout, type SshRunnerOptions } from './ssh-runner.js';
export { OpensshRunner, type OpensshRunnerOptions } from './openssh-runner.js';
export { OpensshConfigError } from './openssh-config.js';
export { diagnoseOpensshFailure } from './openssh-diagnose.js';
export { HostsFile, parseHostsFile } from './hosts-file.js';
export { SshTransports, type SshTransportsOptions } from './transport-runner.js';
export {
  HostCertificateError,
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SshConnectError,
  type HostCertificateProblem,
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
