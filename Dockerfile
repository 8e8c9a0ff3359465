# openddb, a DynamoDB-compatible database, as a small container image: one
# static executable on an empty base, run as a non-root user (1000:1000)
# that owns its working and data directories. docs/container.md says how
# to use it; scripts/container-check.sh builds the same executable with the
# same recipe and runs it the way this image would (chrooted into the same
# layout, as 1000:1000, as PID 1), and checks this file against it.
#
#   docker build -t openddb .
#   docker run --rm -p 8000:8000 -v openddb-data:/home/dynamodblocal/data openddb
#   docker run --rm -p 8000:8000 openddb -jar DynamoDBLocal.jar -inMemory -sharedDb

# A registry mirror's copy works as well: --build-arg RUST_IMAGE=mirror/rust:1-bookworm
ARG RUST_IMAGE=rust:1-bookworm

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
# The recipe is packaging/docker/build-static.sh: glibc linked statically
# (why not musl is said there), the image's file system laid out in
# /rootfs. The cache mounts keep crates.io downloads and compiled
# dependencies from one build to the next (BuildKit; Podman and Buildah
# have them too).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target/static \
    packaging/docker/build-static.sh /rootfs

# Nothing but the executable, /tmp and the user's directories: no shell,
# no libc, no package manager.
FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="openddb" \
      org.opencontainers.image.description="A DynamoDB-compatible database (DynamoDB's API on SQLite); a drop-in for DynamoDB Local" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=builder /rootfs/usr/local/bin/openddb /usr/local/bin/openddb
COPY --from=builder /rootfs/tmp /tmp
# Owned by the user the server runs as, so a named volume mounted on
# /home/dynamodblocal/data starts out writable by it.
COPY --from=builder --chown=1000:1000 /rootfs/home/dynamodblocal /home/dynamodblocal
# DynamoDB Local's image works here too, so compose files written for it
# (-dbPath ./data, a volume on /home/dynamodblocal/data) keep working.
WORKDIR /home/dynamodblocal
USER 1000:1000
EXPOSE 8000
# The image has no curl: the binary asks GET / itself. It checks port 8000;
# a server moved to another port inside the container needs
# `openddb health --port N` here instead.
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/openddb", "health"]
ENTRYPOINT ["/usr/local/bin/openddb"]
# Durable, on every interface. Any other command line replaces this one:
# openddb's own flags, or DynamoDB Local's (`-jar DynamoDBLocal.jar
# -sharedDb -dbPath ./data`), which the binary accepts unchanged.
CMD ["--host", "0.0.0.0", "--port", "8000", "--data-dir", "/home/dynamodblocal/data"]
