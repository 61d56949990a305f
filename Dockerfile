# tollgate's own image: the static binary that `make build` writes
# (CGO_ENABLED=0) on an empty base, with CA certificates for registries and
# an /etc/passwd entry for its numeric user. No shell, no package manager.
# Build it with `make image` (build/image.sh stages the context: the
# binary, the host's CA bundle and build/image/{passwd,group}).
FROM scratch

ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/tollgate-dev/tollgate
# The repository states no license yet: SPDX's "no assertion".
ARG LICENSES=NOASSERTION

LABEL org.opencontainers.image.title="tollgate" \
      org.opencontainers.image.description="Supply-chain checks and admission webhooks for Kubernetes" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="${LICENSES}"

COPY passwd group /etc/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY tollgate /usr/local/bin/tollgate

USER 65532:65532
EXPOSE 8443
# Exec form: there is no shell. The serving certificate names the Service,
# not 127.0.0.1, so the loopback probe skips verification as the kubelet's
# HTTPS probes do.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/tollgate", "health", "--url", "https://127.0.0.1:8443/healthz", "--insecure-skip-verify"]
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["serve", "--addr", ":8443", "--tls-cert", "/etc/tollgate/tls/webhook.pem", "--tls-key", "/etc/tollgate/tls/webhook-key.pem", "--client-ca", "/etc/tollgate/tls/ca.pem"]
