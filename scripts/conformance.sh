#!/usr/bin/env bash
# Neutron API conformance: runs Debian's tempest (tempest.api.network) against
# a throwaway `vland server` on loopback (embedded etcd in a temp dir, built-in
# Keystone with pre-provisioned accounts) and prints passed/failed/skipped.
#
#   scripts/conformance.sh         api_extensions = exactly what GET /v2.0/extensions
#                                  lists; exits 1 if a test fails that is not in
#                                  scripts/conformance-exclude.txt
#   scripts/conformance.sh --all   api_extensions = all: the distance to full
#                                  Neutron; a report only, always exits 0
#
# Environment: VLAND_BINARY (default: build bin/vland), CONCURRENCY (6:
# the run is bound by tempest's fixed 10 s sleep before every subnet delete,
# not by CPU; 2 workers took 12.5 min, 6 take 7, 10 took longer again),
# REGEX ('^tempest\.api\.network\.'), KEEP=1 keeps the temp dir for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="/usr/local/go/bin:$PATH"

MODE=listed
[ "${1:-}" = "--all" ] && MODE=all
CONCURRENCY=${CONCURRENCY:-6}
REGEX=${REGEX:-'^tempest\.api\.network\.'}
EXCLUDE=$ROOT/scripts/conformance-exclude.txt
PY=/usr/bin/python3 # tempest's own interpreter (not a pyenv/venv python3 on PATH)

for c in tempest stestr curl; do
  command -v "$c" >/dev/null || { echo "conformance: $c not found (run scripts/deps.sh)" >&2; exit 1; }
done

BIN=${VLAND_BINARY:-}
if [ -z "$BIN" ]; then
  go build -o bin/vland ./cmd/vland
  BIN=$ROOT/bin/vland
fi

TMP=$(mktemp -d /tmp/vland-conformance.XXXXXX)
SERVER_PID=""
AGENT_PID=""
cleanup() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-}" = 1 ]; then echo "conformance: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
API_PORT=$(free_port)
ETCD_PORT=$(free_port)
URL=http://127.0.0.1:$API_PORT

# Accounts: every user in a project of its own (tests compare project_id with
# the token's project and check that alt cannot see primary's resources).
# tempest takes a primary and an alt from the members and an admin from the
# admins per worker, so give each worker more than it needs.
NMEMBER=$((CONCURRENCY * 3))
NADMIN=$((CONCURRENCY * 2))
PW=conformance
{
  echo "users:"
  for i in $(seq "$NMEMBER"); do echo "  - {name: member$i, password: $PW, project: project-member$i, roles: [member]}"; done
  for i in $(seq "$NADMIN"); do echo "  - {name: admin$i, password: $PW, project: project-admin$i, roles: [admin, member]}"; done
} >"$TMP/users.yaml"
{
  for i in $(seq "$NMEMBER"); do
    printf -- "- username: member%s\n  project_name: project-member%s\n  password: %s\n  domain_name: Default\n" "$i" "$i" "$PW"
  done
  for i in $(seq "$NADMIN"); do
    printf -- "- username: admin%s\n  project_name: project-admin%s\n  password: %s\n  domain_name: Default\n  types: [admin]\n" "$i" "$i" "$PW"
  done
} >"$TMP/accounts.yaml"

"$BIN" server --listen "127.0.0.1:$API_PORT" --data-dir "$TMP/etcd" \
  --etcd-client-url "http://127.0.0.1:$ETCD_PORT" --auth keystone \
  --auth-config "$TMP/users.yaml" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$URL/" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; echo "conformance: server exited" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$URL/" || { cat "$TMP/server.log" >&2; echo "conformance: server not answering" >&2; exit 1; }

# tempest's dhcp_agent_scheduler tests need a live DHCP agent host. This run
# has no OVS, so test/fakeagent registers one (its own etcd user, as a real
# agent) and marks its DHCP ports ACTIVE; real DHCP is tested end to end in
# test/e2e on OVS and dnsmasq.
go build -o "$TMP/fakeagent" ./test/fakeagent
"$BIN" agent credentials conformance-dhcp --etcd-endpoints "http://127.0.0.1:$ETCD_PORT" \
  --data-dir "$TMP/etcd" -o "$TMP/agent.password" >/dev/null
"$TMP/fakeagent" "http://127.0.0.1:$ETCD_PORT" conformance-dhcp "$TMP/agent.password" >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!

# json KEY...: reads JSON on stdin and prints the value at that path.
json() { $PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1:]: v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$@"; }

TOKEN=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' "$URL/v3/auth/tokens" -d '{"auth":{
  "identity":{"methods":["password"],"password":{"user":{"name":"admin1","domain":{"name":"Default"},"password":"'$PW'"}}},
  "scope":{"project":{"name":"project-admin1","domain":{"name":"Default"}}}}}' |
  tr -d '\r' | awk 'tolower($1)=="x-subject-token:"{print $2}')
[ -n "$TOKEN" ] || { echo "conformance: no admin token" >&2; exit 1; }
api() { curl -fsS -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' "$@"; }

# The public network tempest's external-network tests need.
NET_ID=$(api "$URL/v2.0/networks" -d '{"network":{"name":"public","router:external":true}}' | json network id)
api -o /dev/null "$URL/v2.0/subnets" -d '{"subnet":{"name":"public-subnet","network_id":"'"$NET_ID"'","ip_version":4,"cidr":"172.24.4.0/24"}}'

LISTED=$(api "$URL/v2.0/extensions" | $PY -c 'import json,sys; print(",".join(e["alias"] for e in json.load(sys.stdin)["extensions"]))')
if [ "$MODE" = all ]; then EXTS=all; else EXTS=$LISTED; fi
has() { [ "$EXTS" = all ] || [[ ",$EXTS," == *",$1,"* ]]; }
b() { if has "$1"; then echo true; else echo false; fi; }

# IPv6 subnets and ports work in vland, so the IPv6 variants run (a
# regression must fail, not skip). ipv6_subnet_attributes (SLAAC/DHCPv6
# modes) stays off in the listed run: vland refuses ipv6_ra_mode and
# ipv6_address_mode with a 400.
V6ATTRS=false
[ "$MODE" = all ] && V6ATTRS=true

# tempest init registers workspaces in a file; keep that inside $TMP too.
(cd "$TMP" && tempest init --workspace-path "$TMP/workspaces.yaml" "$TMP/ws" >/dev/null)
cat >"$TMP/ws/etc/tempest.conf" <<EOF
[DEFAULT]
log_dir = $TMP/ws/logs
log_file = tempest.log

[oslo_concurrency]
lock_path = $TMP/ws/lock

[auth]
use_dynamic_credentials = false
test_accounts_file = $TMP/accounts.yaml
create_isolated_networks = false
default_credentials_domain_name = Default

[identity]
uri_v3 = $URL/v3
auth_version = v3
region = RegionOne

[identity-feature-enabled]
api_v2 = false

[service_available]
neutron = true
nova = false
cinder = false
glance = false
swift = false
horizon = false

[network]
public_network_id = $NET_ID
floating_network_name = public
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
project_network_v6_cidr = 2001:db8::/48
project_network_v6_mask_bits = 64

[network-feature-enabled]
api_extensions = $EXTS
ipv6 = true
ipv6_subnet_attributes = $V6ATTRS
floating_ips = $(b router)
port_security = $(b port-security)
EOF

echo "conformance: vland at $URL, api_extensions=$EXTS"
START=$(date +%s)
set +e
(cd "$TMP/ws" && tempest run --regex "$REGEX" --concurrency "$CONCURRENCY") >"$TMP/run.log" 2>&1
RC=$?
set -e
ELAPSED=$(( $(date +%s) - START ))

# Results from the stestr repository: one line "status id" per test.
(cd "$TMP/ws" && stestr last --subunit) | $PY -c '
import sys, subunit, testtools
res = {}
class R(testtools.StreamResult):
    def status(self, test_id=None, test_status=None, **kw):
        if test_id and test_status in ("success", "fail", "skip", "xfail", "uxsuccess"):
            res[test_id.split("[")[0]] = test_status
s = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
r = R(); r.startTestRun(); s.run(r); r.stopTestRun()
for t, st in sorted(res.items()):
    print(st, t)' >"$TMP/results.txt"

count() { grep -c "^$1 " "$TMP/results.txt" || true; }
PASSED=$(( $(count success) + $(count xfail) ))
FAILED=$(( $(count fail) + $(count uxsuccess) ))
SKIPPED=$(count skip)
# setUpClass failures (e.g. a class's resource setup) show as fail lines too.
if [ $((PASSED + FAILED + SKIPPED)) -eq 0 ] || { [ "$RC" -ne 0 ] && [ "$FAILED" -eq 0 ]; }; then
  tail -50 "$TMP/run.log" >&2
  echo "conformance: tempest did not run (exit $RC, no results)" >&2
  [ "$MODE" = all ] && exit 0
  exit 1
fi

excluded() { [ -f "$EXCLUDE" ] && grep -v '^\s*#' "$EXCLUDE" | awk '{print $1}' | grep -qxF "$1"; }
UNEXPECTED=()
EXPECTED=()
while read -r st t; do
  case $st in fail|uxsuccess) ;; *) continue ;; esac
  # a class-level failure is reported as "setUpClass (tempest...Class)"
  id=$t
  [[ $t == setUpClass* || $t == tearDownClass* ]] && id=$(sed 's/.*(\(.*\))/\1/' <<<"$t")
  if [ "$MODE" = listed ] && excluded "$id"; then EXPECTED+=("$id"); else UNEXPECTED+=("$t"); fi
done <"$TMP/results.txt"

echo
echo "== failures"
for t in "${UNEXPECTED[@]}"; do echo "  FAIL $t"; done
for t in "${EXPECTED[@]}"; do echo "  fail $t (excluded: $(awk -v t="$t" '$1==t{$1=""; sub(/^ +/,""); print; exit}' "$EXCLUDE"))"; done
if [ "$MODE" = listed ] && [ ${#UNEXPECTED[@]} -gt 0 ]; then
  echo
  echo "== details of unexpected failures"
  (cd "$TMP/ws" && stestr failing 2>/dev/null) | grep -v '^\s*$' | head -400 || true
fi
echo
echo "== failures per module"
while read -r st t; do
  case $st in fail|uxsuccess) ;; *) continue ;; esac
  [[ $t == setUpClass* || $t == tearDownClass* ]] && t=$(sed 's/.*(\(.*\))/\1.class/' <<<"$t")
  echo "${t%.*.*}"
done <"$TMP/results.txt" | sort | uniq -c | sort -rn
echo
echo "conformance ($MODE extensions, concurrency $CONCURRENCY, ${ELAPSED}s): passed $PASSED, failed $FAILED (excluded ${#EXPECTED[@]}), skipped $SKIPPED"
if [ "$MODE" = listed ] && [ ${#UNEXPECTED[@]} -gt 0 ]; then
  echo "conformance: ${#UNEXPECTED[@]} unexpected failure(s)" >&2
  exit 1
fi
exit 0
