# syntax=docker/dockerfile:1.7
# Seatlink's container image: one static binary on distroless (no shell,
# no package manager), as a non-root numeric user, on a read-only root
# filesystem; only DATA-DIR (/var/lib/seatlink) needs to be writable.
#
#   docker build --build-arg VERSION=1.4.0 --build-arg REVISION=$(git rev-parse HEAD) -t seatlink:1.4.0 .
#
# Kept at the repository root with .dockerignore beside it: `docker build .`,
# podman, buildah and kaniko all find both there (only BuildKit reads a
# Dockerfile-specific ignore file). The compose file and the Kubernetes
# manifests under deploy/ use this image; deploy/packaging/check.sh builds
# the binary with the same script (deploy/build.sh) to catch a broken build.

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, in their own layer and cache, so a code change does not
# download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	GOOS=$TARGETOS GOARCH=$TARGETARCH sh deploy/build.sh /out \
	&& mkdir -p /out/data

# distroless/static: CA certificates (S3, SMTP, ACME over TLS), tzdata
# (schools' time zones; the binary embeds a copy too), /etc/passwd with
# nonroot = 65532. Pin it by digest in production
# (gcr.io/distroless/static-debian12:nonroot@sha256:…).
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED
LABEL org.opencontainers.image.title="Seatlink" \
	org.opencontainers.image.description="Telepresence and remote-learning gateway for pupils who cannot be in school: control plane and WebRTC SFU in one binary" \
	org.opencontainers.image.licenses="Apache-2.0" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}" \
	org.opencontainers.image.documentation="README.md#deploying" \
	org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"

COPY --from=build /out/seatlink /out/seatlink-healthcheck /usr/local/bin/
# The one writable place: records (SQLite, when no PostgreSQL), lesson
# material (when no S3), ACME certificates. Owned by the runtime user so a
# fresh named volume starts writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/seatlink
VOLUME ["/var/lib/seatlink"]
WORKDIR /var/lib/seatlink

# Listen on every interface inside the container (serve's own defaults are
# loopback only). Each is a serve setting: `seatlink serve -h` lists them.
# The drain on SIGTERM stays serve's default (SEATLINK_SHUTDOWN_GRACE, 5s),
# within `docker stop`'s 10 s; compose, Kubernetes and systemd set a longer
# one with a longer stop timeout (deploy/packaging checks each pair).
ENV SEATLINK_HTTP_ADDR=0.0.0.0:8080 \
	SEATLINK_MEDIA_UDP=0.0.0.0:8443 \
	SEATLINK_MEDIA_TCP=0.0.0.0:8443 \
	SEATLINK_METRICS_ADDR=0.0.0.0:9090 \
	SEATLINK_DATA_DIR=/var/lib/seatlink \
	SEATLINK_LOG_FORMAT=json

# HTTP (put TLS in front, or set SEATLINK_TLS_CERT/_KEY), all media on one
# UDP port (ICE mux) and ICE-TCP on the same number, Prometheus /metrics.
EXPOSE 8080/tcp 8443/udp 8443/tcp 9090/tcp

USER 65532:65532
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
	CMD ["/usr/local/bin/seatlink-healthcheck"]
ENTRYPOINT ["/usr/local/bin/seatlink"]
CMD ["serve"]
