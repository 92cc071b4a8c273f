#!/usr/bin/env bash
# Installs the real TLS terminators the end-to-end tests put in front of certgate (test/e2e: nginx,
# HAProxy, Caddy) from Debian's packages when they are missing. Run by the test setup and by .ci/run, so
# `npm ci && npm test` works on a fresh machine of this project's kind (Debian, root, apt reachable).
# Without root or apt it installs nothing and says so; the e2e tests then fail naming what is missing.
set -uo pipefail
missing=""
for p in nginx haproxy caddy; do
  command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || [ -x "/usr/bin/$p" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-terminators: missing$missing and cannot install them here (needs root and apt-get); the e2e tests will fail" >&2
  exit 0
fi
echo "install-terminators: installing$missing from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; } ||
  echo "install-terminators: apt-get could not install$missing" >&2
exit 0
