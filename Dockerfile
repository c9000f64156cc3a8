# DCM (Distributed Cloud Manager) container image.
#   docker build -t dcm:0.1.0 .
#   docker run --rm -p 9077:9077 -p 9078:9078 -e MONGO_URL=mongodb://mongo:27017/ \
#     -e DCM_ENCRYPTION_KEYS="k1:$(openssl rand -base64 32)" \
#     -v "$PWD/tokens.yaml:/etc/dcm/tokens.yaml:ro" -e DCM_AUTH_TOKENS_FILE=/etc/dcm/tokens.yaml dcm:0.1.0
# The service refuses to start without encryption keys and authentication (see
# docs/operations.md and helm/dcm).
#
# test/integration/container-runtime.test.ts replays this file without Docker: it runs the
# `npm` steps of the build and deps stages, lays out the runtime stage's COPYs, starts its CMD
# and runs its HEALTHCHECK. Keep the build and deps stages to COPY/RUN npm …, and the runtime
# stage's RUNs to system set-up that the service does not depend on.
#
# Node is pinned by tag, one ARG for all stages: the current LTS line, Node 24 (Node 20 is end
# of life). CI runs the whole test suite on this same version (NODE24_VERSION in .ci/run: keep
# the two equal); package.json's engines (>= 20.19) is only the floor the code still runs on.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# ---- build: all dependencies, TypeScript -> dist/ -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install script is needed to compile (tsc is plain JS); skipping them also skips
# @scarf/scarf's install-time telemetry (a dependency of swagger-ui-express).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only -----------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: node, the production dependencies and the compiled service --------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="dcm" \
      org.opencontainers.image.description="Distributed Cloud Manager: logical clouds spanning Kubernetes clusters, over REST and gRPC" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# A fixed numeric uid/gid (Kubernetes' runAsNonRoot checks the number), and no package
# managers at run time: npm, npx, corepack and yarn come with the base image but the
# service needs only node.
RUN groupadd --system --gid 10001 dcm \
 && useradd --system --uid 10001 --gid dcm --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dcm \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
           /root/.npm /tmp/*
# package.json is needed at run time: it makes dist/*.js ES modules ("type": "module").
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The gRPC API loads its .proto files at start-up (dist/grpc finds ../../proto).
COPY proto ./proto
# Files stay root-owned and read-only to the service user (works with a read-only root
# filesystem; only /tmp needs to be writable).
USER 10001:10001
EXPOSE 9077 9078
# No curl in slim images: ask node itself. Honours DCM_HTTP_PORT if it is overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.DCM_HTTP_PORT || 9077) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself (the service shuts down gracefully on it).
# A young generation of 4 MiB semi-spaces keeps the process under 200 MB (docs/operations.md);
# the same flags as `npm run start:prod` (test/unit/production-start.test.ts).
CMD ["node", "--max-semi-space-size=4", "dist/main.js"]
