#!/bin/sh
# Runs a command trusting the build secret `extra-ca` (a PEM bundle) for apt, npm and curl
# besides the system's CAs, for builders behind a TLS-intercepting proxy. The secret is
# only mounted for that RUN step and the combined bundle is removed after it: nothing of
# it stays in a layer.
set -eu
secret=/run/secrets/extra-ca
if [ -s "$secret" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cat /etc/ssl/certs/ca-certificates.crt "$secret" > "$work/ca.pem" 2>/dev/null \
    || cat "$secret" > "$work/ca.pem"
  printf 'Acquire::https::CAInfo "%s";\n' "$work/ca.pem" > "$work/apt.conf"
  export APT_CONFIG="$work/apt.conf" NODE_EXTRA_CA_CERTS="$work/ca.pem" \
         CURL_CA_BUNDLE="$work/ca.pem" GIT_SSL_CAINFO="$work/ca.pem"
fi
"$@"
