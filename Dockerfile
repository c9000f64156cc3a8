# DCM (Distributed Cloud Manager) container image.
#   docker build -t dcm:0.1.0 .
#   docker run --rm -p 9077:9077 -e MONGO_URL=mongodb://mongo:27017/ dcm:0.1.0
# Node is pinned by tag (package.json wants >= 20.19); bump both stages together.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

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

# ---- runtime: production dependencies and the compiled service only -------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 dcm \
 && useradd --system --uid 10001 --gid dcm --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dcm
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# The gRPC API loads its .proto files at start-up (dist/grpc finds ../../proto).
COPY proto ./proto
# Files stay root-owned and read-only to the service user (works with a read-only root filesystem).
USER 10001:10001
EXPOSE 9077 9078
# No curl in slim images: ask node itself. Honours DCM_HTTP_PORT if it is overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.DCM_HTTP_PORT || 9077) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
