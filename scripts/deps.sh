#!/usr/bin/env bash
# Installs what vland needs on a fresh Debian 12 machine: the Debian packages
# for the data plane and the tests, and the Go modules. Idempotent: it only
# installs what is missing.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"

pkgs=(openvswitch-switch dnsmasq-base dnsmasq-utils isc-dhcp-client nftables iproute2 iputils-ping iputils-arping ethtool
      iperf3 tcpdump procps python3-openstackclient tempest curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "deps: Go not found (expected /usr/local/go/bin/go, Go >= 1.26)" >&2; exit 1; }
go mod download
echo "deps: ok"
