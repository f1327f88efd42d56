# rds-forwarder `serve` as a container (issue 15): the Firehose HTTP endpoint
# for a fleet (ECS, Kubernetes). Multi-platform with buildx, each platform
# built natively (QEMU emulation for the other one), no cross toolchain:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t rds-forwarder:serve .
#
# The builder and the runtime are the same Debian release (bookworm = 12),
# so the glibc the binary is linked against is the one it runs on. Pin both
# by digest in production (README, "Container image").

FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
COPY . .
# --locked: exactly the dependency versions of Cargo.lock.
RUN cargo build --release --locked --bin rds-forwarder \
    && cp target/release/rds-forwarder /rds-forwarder

# distroless cc: glibc, libgcc and CA certificates, no shell, no package
# manager; its `nonroot` user (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /rds-forwarder /usr/local/bin/rds-forwarder
USER 65532:65532
# serve's default listen address is 0.0.0.0:8080 (RDSF_SERVE_LISTEN).
EXPOSE 8080
# No HEALTHCHECK: the image has no shell or HTTP client to run one; the
# orchestrator probes GET /healthz (alive) and GET /readyz (503 while stopping)
# over HTTP: a Kubernetes liveness/readiness probe, an ALB target group check.
ENTRYPOINT ["rds-forwarder", "serve"]
