#!/usr/bin/env bash
# The real peers the tests start themselves, from Debian's packages: headless Chromium (web UI),
# ClickHouse (clickhouse sink and store engine), rsyslog with TLS (syslog sink and source),
# systemd-journal-remote and journalctl (journald source). Installs what is missing when it
# can (root, or sudo without a password); otherwise says exactly what to install and fails,
# rather than letting half the suite fail later. Runs before `npm test` (npm's pretest).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/clickhouse-server ] || need+=(clickhouse-server)
[ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || need+=(rsyslog-gnutls)
[ -x /lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote)
[ -x /usr/bin/journalctl ] || need+=(systemd)
command -v openssl > /dev/null || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2> /dev/null; then SUDO="sudo"; else
  echo "tests need Debian packages that are not installed: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing the tests' peers: ${need[*]}" >&2
$SUDO apt-get update -qq
# policy-rc.d or no init: the packages' own services are not started; the tests run their own.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
