# syntax=docker/dockerfile:1
# The mcp-gateway image for those who build with Docker:
#   docker buildx build --platform linux/arm64,linux/amd64 \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t mcp-gateway .
# `make image` builds the same image without a Docker daemon
# (tools/ociimage); TestDockerfileMatchesTool keeps the two equal: same
# files, user, entrypoint, command, port, environment and label keys.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same flags as `make image` (Makefile LDFLAGS).
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mcp-gateway ./cmd/mcp-gateway
# passwd, group, the CA bundle, /tmp and the home directory: the same bytes,
# modes and owners as the base layer of `make image`.
RUN go run ./tools/ociimage rootfs --owners --out /rootfs

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/mcp-gateway/mcp-gateway
ARG CREATED=1970-01-01T00:00:00Z
ARG LICENSES=NOASSERTION
# COPY --from keeps the modes (/tmp 1777) and owners (the home is 65532's).
COPY --from=build /rootfs/ /
COPY --from=build /out/mcp-gateway /usr/local/bin/mcp-gateway
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    MCPGW_LISTEN=0.0.0.0:8080 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="mcp-gateway" \
      org.opencontainers.image.description="OAuth 2.1 resource-server gateway for the Model Context Protocol (MCP)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="${LICENSES}"
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8080/tcp
ENTRYPOINT ["/usr/local/bin/mcp-gateway"]
CMD ["serve"]
