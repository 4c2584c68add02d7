# syntax=docker/dockerfile:1
# Loggy: one image for the agent (DaemonSet, sidecar) and the server (StatefulSet).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npx tsc -p tsconfig.build.json && npx vite build --config src/ui/vite.config.ts && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# journalctl, for the journald source (kubelet and container runtime logs from the node's
# journal): systemd's own reader, the only one that follows the journal file format exactly.
RUN apt-get update && apt-get install -y --no-install-recommends systemd && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# Non-root by default; the agent DaemonSet runs as uid 0 with every capability dropped but
# DAC_READ_SEARCH, to read other users' log files (deploy/kubernetes/agent-daemonset.yaml).
RUN groupadd --system --gid 10001 loggy && useradd --system --uid 10001 --gid loggy --no-create-home loggy
USER 10001:10001
EXPOSE 3100 9598
ENTRYPOINT ["node", "/app/bin/loggy.js"]
CMD ["--help"]
