# oomdoctor: the Slack bot (and the oomdoctor CLI) in one image, on Node 24 LTS. Production files
# only: the build output of src/, handlers/ and jobs/ (tests build separately, for the demo and the
# benchmarks) and the production dependencies.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY handlers ./handlers
COPY jobs ./jobs
RUN npm run build && npm prune --omit=dev

FROM node:24.22.3-bookworm-slim
# The chart's text is drawn with DejaVu Sans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The heap settings npm start uses (measured with npm run bench:bot): a 96 MiB old space keeps the
# heap from growing on garbage; 8 MiB semi-spaces keep collections short for the webhook's answers.
ENV NODE_ENV=production PORT=3000 NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=8"
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Numeric (the image's node user), so that the kubelet can check runAsNonRoot. Nothing is written
# under /app: the root filesystem can be read-only.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve", "--role", "all"]
