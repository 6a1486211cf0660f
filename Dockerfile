# Latchkey container image. Build: docker build -t latchkey .
# Run with a read-only root file system; only /data (database, master key) and /tmp are written:
#   docker run --read-only --tmpfs /tmp -v latchkey-data:/data -p 8420:8420 latchkey

# Stage 1: build the server (tsc) and the console (vite) with every dependency.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY console ./console
RUN npm run build && npm prune --omit=dev

# Stage 2: the runtime: production dependencies and the built files, as a non-root user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    LATCHKEY_HOST=0.0.0.0 \
    LATCHKEY_PORT=8420 \
    LATCHKEY_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8420
# /healthz proves the event loop and the request path answer, not only that the socket accepts.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LATCHKEY_PORT||8420)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/latchkey.js"]
CMD ["up"]
