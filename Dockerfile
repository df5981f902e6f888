# Heartbeat image: the three binaries (scheduler, worker, feed) on a
# distroless base, running as a non-root user. There is no ENTRYPOINT: the
# command names the binary, e.g. `docker run heartbeat worker --config
# /etc/heartbeat/config.yaml`; the default command runs a scheduler.
#
#   docker build -t heartbeat .
#
# deploy/compose_test.go checks that this file builds every cmd/ binary.

FROM golang:1.26.8 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION stamps --version and heartbeat_build_info (else the module's).
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X heartbeat/internal/buildinfo.version=${VERSION}" -o /out/bin/ ./cmd/scheduler ./cmd/worker ./cmd/feed
# The working directory of the final stage, writable by the nonroot user
# (CSV bar files go under ./data/bars when store.postgres_url is empty).
RUN mkdir -p /out/var/lib/heartbeat

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/scheduler /out/bin/worker /out/bin/feed /usr/local/bin/
COPY config.yaml /etc/heartbeat/config.yaml
COPY --from=build --chown=65532:65532 /out/var/lib/heartbeat /var/lib/heartbeat
WORKDIR /var/lib/heartbeat
# nonroot in the distroless image.
USER 65532:65532
# 8080: scheduler status page, API, /metrics, /healthz, /readyz.
# 8081: worker /metrics, /healthz, /readyz.
EXPOSE 8080 8081
# A distroless image has no shell or curl: the binary asks its own /readyz.
# (Compose gives worker services `worker healthcheck`.)
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["scheduler", "healthcheck", "--config", "/etc/heartbeat/config.yaml"]
CMD ["scheduler", "--config", "/etc/heartbeat/config.yaml"]
