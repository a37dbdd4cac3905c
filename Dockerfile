# syntax=docker/dockerfile:1
#
# Quire's container image: a multi-stage build, a small Debian runtime with
# git (to follow the team's remote), a non-root user, /data as the volume.
#
#   docker build --build-arg QUIRE_COMMIT=$(git rev-parse HEAD) -t quire .
#   docker run -p 8080:8080 -v quire:/data -v $PWD/quire.toml:/etc/quire/quire.toml:ro quire
#
# docs/production.md has the whole set-up (configuration, secrets, TLS,
# replicas). `.ci/run` checks what it can of this image without a registry.

ARG RUST_VERSION=1.88
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN} AS build
WORKDIR /src
# The build context has no .git: the commit `quire --version` names comes
# from here (build.rs falls back to "unknown").
ARG QUIRE_COMMIT=
ENV QUIRE_COMMIT=${QUIRE_COMMIT} CARGO_INCREMENTAL=0
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin quire \
    && install -m 0755 target/release/quire /usr/local/bin/quire

FROM debian:${DEBIAN}-slim
# git and ssh: cloning and fetching the remote (https or ssh); curl: the
# health check; tini: PID 1, which reaps what a git that timed out left.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       ca-certificates curl git openssh-client tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 quire \
    && useradd --system --uid 10001 --gid quire --home-dir /home/quire --create-home quire \
    && mkdir -p /data/content /data/state /etc/quire \
    && chown -R quire:quire /data
COPY --from=build /usr/local/bin/quire /usr/local/bin/quire
COPY deploy/container.toml /etc/quire/quire.toml
USER quire:quire
ENV HOME=/home/quire
WORKDIR /data
# content/ (the clone, or your folder) and state/ (the index, a cache; and
# the written state: back that up).
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["tini", "--", "quire", "--config", "/etc/quire/quire.toml"]
CMD ["serve"]
