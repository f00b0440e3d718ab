# syntax=docker/dockerfile:1

# Build stage: dependencies first, so source edits reuse the module cache layer.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/darkshare ./cmd/darkshare \
 && mkdir -p /out/data

# Final stage: a static binary on distroless, run as the nonroot user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/darkshare /usr/local/bin/darkshare
COPY --from=build --chown=65532:65532 /out/data /data
ENV DARKSHARE_LISTEN=0.0.0.0:8080 \
    DARKSHARE_DB=/data/darkshare.db
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# Exec form: distroless has no shell. healthcheck asks /healthz at the
# address DARKSHARE_LISTEN names, 0.0.0.0 on the loopback.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/darkshare", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/darkshare"]
CMD ["serve"]
