# runbot: multi-stage build on node:24-slim. The runtime image holds the compiled service, its
# production dependencies and the shipped runbooks/workflows (mount your own over /app/runbooks and
# /app/workflows), and runs as the unprivileged `node` user. See docs/deploy.md.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Not `npm ci`: some registries lack the lock's optional platform packages (scripts/setup.sh says why);
# `npm install --no-save` installs the locked versions all the same.
RUN npm install --no-save --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY src ./src
# The sandbox (a fake Jira, a simulated fleet, an SSH server; `runbot demo` and `runbot sandbox`) is for
# a checkout, not for production: the CLI loads it only for those commands, and the image leaves it out.
RUN npm run build && rm -rf dist/sandbox && npm prune --omit=dev

FROM node:24-slim
LABEL org.opencontainers.image.title="runbot" \
      org.opencontainers.image.description="Restores servers after an RMA by walking Jira tickets through a runbook"
# NODE_OPTIONS: a young generation of 3 × 8 MiB instead of Node 24's default of up to 3 × 64 MiB on a
# large host; V8 otherwise lets ~150 MiB of short-lived garbage (Jira JSON, Redis replies) pile up
# before a scavenge. It caps no heap, so it cannot make the service run out of memory. 8, not the
# 4 MiB first chosen for memory: at 1,000 tickets the service used ~5 % less CPU for the same work
# and the batch ran at 1.18× to 1.21× its bound in five runs (1.20× to 1.31× with 4), for ~11 MiB
# more RSS (service ~210 MiB, poller 131 to 134 MiB at 10,000 tickets); 12 and 16 took the poller
# to 150 MiB, its limit (docs/benchmarks.md, "1 December 2026, night").
# MALLOC_ARENA_MAX=2: glibc's malloc keeps up to 8 arenas per core, one per thread that allocates
# (V8's GC and compiler threads, libuv's pool); two hold what those threads allocate with less
# left unused between them: 21 MiB less native memory at the batch's peak, no CPU cost measured.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--max-semi-space-size=8 \
    RUNBOT_HTTP_PORT=8080 \
    RUNBOT_LOG_PRETTY=false
# OpenSSH's client, for sites with `ssh.transport: openssh` (host and user certificates).
RUN apt-get update \
  && apt-get install -y --no-install-recommends openssh-client \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root runbooks ./runbooks
COPY --chown=root:root workflows ./workflows
# The code is root's and read-only to the service; the service runs as `node` (uid 1000).
USER node
EXPOSE 8080
# SIGTERM drains: polling stops, running steps get RUNBOT_SHUTDOWN_GRACE seconds (default 30).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.RUNBOT_HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --heap-growing-percent=100: after a full GC, V8 lets the old generation grow to 2 × what
# survived before the next one, instead of up to 4× on a host with this much memory (the garbage of
# a batch: ~115 MiB above ~65 MiB live). It caps no heap either. NODE_OPTIONS does not take V8's
# heap flags, hence the command line (docs/deploy.md).
ENTRYPOINT ["node", "--heap-growing-percent=100", "dist/cli.js"]
CMD ["start"]
