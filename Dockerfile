# syntax=docker/dockerfile:1
# One image for both mailtrack processes (no build step: TypeScript runs through tsx, a runtime
# dependency). Default command: the Temporal worker; the API runs the same image with
# `node --import tsx api/main.ts` (docker-compose.yml sets both commands).
#
# Node 24, the newest LTS line (package.json's engines: >=22; CI tests on 24).
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    DATA_DIR=/app/.data
WORKDIR /app

# Dependencies first, so this layer is reused until package*.json change. devDependencies are
# left out (tsx is a regular dependency). Install scripts must run: @swc/core, esbuild and
# protobufjs need theirs (package.json's allowScripts approves them for npm 11; this image's
# npm 10 runs install scripts by default). No compiler needed: the native parts are prebuilt.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Application source (see .dockerignore), owned by root and read-only for the app user.
COPY . .

# Prebuild the workflow bundle into DATA_DIR/cache, the file workers/main.ts looks for (its name
# hashes the workflow sources and the @temporalio/workflow version, both fixed in this image),
# so a worker starts without running webpack. DATA_DIR is the only place the app writes to.
RUN mkdir -p "$DATA_DIR/cache" \
 && npx tsx -e "import('./workers/workflow-bundle.ts').then((m) => m.loadWorkflowBundle(process.env.DATA_DIR + '/cache')).then((b) => console.log('workflow bundle: ' + b.code.length + ' bytes'))" \
 && chown -R node:node "$DATA_DIR"

USER node

# API_PORT's default; only the API listens.
EXPOSE 3000

# `node --import tsx` rather than `npx tsx`: one process, so SIGTERM from `docker stop` reaches
# the app and it shuts down gracefully (npx dies on SIGTERM without passing it to tsx/node).
CMD ["node", "--import", "tsx", "workers/main.ts"]
