#!/usr/bin/env bash
# WireGuard conformance: two userspace WireGuard daemons, each in a network namespace of its own,
# checked against the behaviours that the upstream conformance scripts exercise (the Linux
# kernel's tools/testing/selftests/wireguard/netns.sh and wireguard-go's tests/netns.sh): traffic
# over every mix of IPv4 and IPv6, big MTUs, padding capped at the MTU, roaming, sticky source
# addresses, crypto-routing, peer churn, fwmark, WireGuard inside WireGuard, `wg show` and a
# peer restarted under traffic.
# Written for this project; it borrows the upstream scripts' ideas, not their code.
#
#   ns wgcf<pid>l                                          ns wgcf<pid>r
#   198.19.20.1 2001:2:0:21::1 ── wgcf<pid>a ═ UDP ═ wgcf<pid>b ── 198.19.20.2 2001:2:0:21::2
#   198.19.21.1 2001:2:0:22::1 ── wgcf<pid>c ═ UDP ═ wgcf<pid>d ── 198.19.21.2 2001:2:0:22::2
#                                 (c and d: wg-in-wg, their UDP runs through a and b)
#        veth wgcf<pid>vl 198.18.20.1/24 ──────────── wgcf<pid>vr 198.18.20.2/24
#                         2001:2:0:20::1/64                         2001:2:0:20::2/64
#
# Address plan: nothing outside 198.18.0.0/15 and 2001:2::/48, all of it inside the namespaces
# this script creates (nothing is configured in the root namespace):
#   198.18.20.0/24, 2001:2:0:20::/64   the underlay (veth), extra addresses for roaming/stickiness
#   198.18.21.0/24, 2001:2:0:23::/64   an address of the right side reachable from the left
#                                      only through an fwmark rule; a dummy interface's address
#   198.19.20.0/24, 2001:2:0:21::/64   the tunnel's inner addresses
#   198.19.21.0/24, 2001:2:0:22::/64   the inner addresses of the tunnel inside the tunnel
#   198.19.22.0/24                     allowed IPs of the made-up peers of the churn check
#
# Every check starts from a fresh pair (namespaces, veth, both daemons, `wg setconf`) and tears
# it down after, so one check's failure cannot spill into the next. Each prints PASS or FAIL
# with its name (XFAIL where a peer implementation has a known, named limitation; never for
# wireguard-swift); the script exits non-zero if any check FAILs. Every traffic generator is
# bounded in time, and a trap removes everything (processes in the namespaces, interfaces,
# namespaces, UAPI sockets) on any exit, Ctrl-C and SIGTERM included.
#
#   scripts/conformance.sh [--left IMPL] [--right IMPL] [--swift PATH] [--wireguard-go PATH]
#                          [--only NAME,...] [--list] [--verbose]
#   IMPL: swift (= swift:inline), swift:inline, swift:parallel or wireguard-go; default both
#   swift:inline. --swift defaults to .build/debug/wireguard-swift (else .build/release/...).
#
# Needs root, ip, wg, iperf3, ping, ss, timeout and python3 (raw sockets for the padding,
# replay and spoofing checks).
set -euo pipefail
umask 077                                       # keys and configurations are ours alone
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"   # ip, where a caller's PATH lacks it
cd "$(dirname "$0")/.."
source scripts/as-root.sh
repo=$(pwd)

# ---------------------------------------------------------------------------------------------
# Arguments

left=swift:inline right=swift:inline swift="" wggo=wireguard-go only="" verbose=0 list=0
usage() { sed -n '/^#   scripts\/conformance.sh/,/^#   swift:inline/p' "$0" | sed 's/^#//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --left) left=$2; shift 2 ;;
    --right) right=$2; shift 2 ;;
    --swift) swift=$2; shift 2 ;;
    --wireguard-go) wggo=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) usage ;;
    *) echo "conformance: unknown argument $1" >&2; usage ;;
  esac
done

# swift means swift:inline; anything else must be one of the known implementations.
normalize_impl() {
  case "$1" in
    swift|swift:inline) echo swift:inline ;;
    swift:parallel|wireguard-go) echo "$1" ;;
    *) echo "conformance: unknown implementation '$1' (swift, swift:inline, swift:parallel, wireguard-go)" >&2; exit 2 ;;
  esac
}
left=$(normalize_impl "$left")
right=$(normalize_impl "$right")

if [[ -z $swift ]]; then
  swift=$repo/.build/debug/wireguard-swift
  [[ -x $swift ]] || swift=$repo/.build/release/wireguard-swift
fi
if ((list == 0)) && [[ $left == swift:* || $right == swift:* ]]; then
  [[ -x $swift ]] || { echo "conformance: no wireguard-swift at $swift (build it, or pass --swift PATH)" >&2; exit 2; }
  swift=$(readlink -f "$swift")
fi
if ((list == 0)) && [[ $left == wireguard-go || $right == wireguard-go ]]; then
  wggo=$(command -v "$wggo") || { echo "conformance: wireguard-go not found" >&2; exit 2; }
fi
for tool in ip wg iperf3 ping ss timeout python3; do
  command -v "$tool" >/dev/null || { echo "conformance: $tool is missing" >&2; exit 2; }
done
python=$(command -v python3)

# ---------------------------------------------------------------------------------------------
# Names. The pid keeps two runs apart; interface names stay within 15 bytes (the UAPI sockets,
# /var/run/wireguard/<ifname>.sock, are shared by every namespace of the machine).

tag=$$
NSL=wgcf${tag}l NSR=wgcf${tag}r            # the left and the right namespace
VL=wgcf${tag}vl VR=wgcf${tag}vr            # the veth between them
IFA=wgcf${tag}a IFB=wgcf${tag}b            # the tunnel: a on the left, b on the right
IFC=wgcf${tag}c IFD=wgcf${tag}d            # the tunnel inside the tunnel
PORTA=40201 PORTB=40202 PORTC=40203 PORTD=40204

# Addresses (see the plan above).
UL4=198.18.20.1 UR4=198.18.20.2 UL6=2001:2:0:20::1 UR6=2001:2:0:20::2
TL4=198.19.20.1 TR4=198.19.20.2 TL6=2001:2:0:21::1 TR6=2001:2:0:21::2
WL4=198.19.21.1 WR4=198.19.21.2 WL6=2001:2:0:22::1 WR6=2001:2:0:22::2

work=$(mktemp -d /tmp/wg-conformance.XXXXXX)
check_pid="" check_began=$((${EPOCHREALTIME/./} / 1000))

# ---------------------------------------------------------------------------------------------
# Cleanup: every process in our namespaces, the namespaces (and so the veth and TUN devices in
# them), the UAPI sockets and stats files of our interface names, the scratch folder.

kill_namespace_processes() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 40); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -n $pids ]] || return 0
    sleep 0.05
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.1
}

pair_down() {
  local ns ifname
  for ns in "$NSL" "$NSR"; do kill_namespace_processes "$ns"; done
  for ns in "$NSL" "$NSR"; do ip netns del "$ns" 2>/dev/null || true; done
  for ifname in "$IFA" "$IFB" "$IFC" "$IFD"; do
    rm -f "/var/run/wireguard/$ifname.sock" "/var/run/wireguard/$ifname.stats"
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $check_pid ]]; then kill -TERM "$check_pid" 2>/dev/null || true; wait "$check_pid" 2>/dev/null || true; fi
  pair_down
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "conformance: interrupted" >&2; exit 130' INT
trap 'echo "conformance: terminated" >&2; exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Keys: four interfaces' keys, a preshared key, and made-up peers for the churn check.

for name in a b c d; do
  wg genkey >"$work/key.$name"
  wg pubkey <"$work/key.$name" >"$work/pub.$name"
done
wg genpsk >"$work/psk"
PUBA=$(<"$work/pub.a") PUBB=$(<"$work/pub.b") PUBC=$(<"$work/pub.c") PUBD=$(<"$work/pub.d")
fake_keys=()
for _ in $(seq 24); do fake_keys+=("$(wg genkey | wg pubkey)"); done

# ---------------------------------------------------------------------------------------------
# The packet helper: small jobs that need raw or bound sockets (python3, written out once).

cat >"$work/helper.py" <<'PYTHON'
import json, os, random, select, signal, socket, struct, sys, time

def udp_socket(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return socket.socket(family, socket.SOCK_DGRAM)

def parse_ip(packet, protocol):
    """(source, destination, source port, destination port, UDP payload) of a UDP packet, else None."""
    if protocol == 0x0800 and len(packet) >= 20 and packet[0] >> 4 == 4:
        ihl = (packet[0] & 15) * 4
        if packet[9] != 17 or struct.unpack("!H", packet[6:8])[0] & 0x3fff:
            return None  # not UDP, or a fragment
        source, destination = socket.inet_ntop(socket.AF_INET, packet[12:16]), socket.inet_ntop(socket.AF_INET, packet[16:20])
        total = struct.unpack("!H", packet[2:4])[0]
        udp = packet[ihl:total]
    elif protocol == 0x86DD and len(packet) >= 40 and packet[0] >> 4 == 6:
        if packet[6] != 17:
            return None
        source, destination = socket.inet_ntop(socket.AF_INET6, packet[8:24]), socket.inet_ntop(socket.AF_INET6, packet[24:40])
        udp = packet[40:40 + struct.unpack("!H", packet[4:6])[0]]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, length = struct.unpack("!HHH", udp[:6])
    return source, destination, sport, dport, udp[8:length]

def packet_socket(interface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    s.bind((interface, 0))
    return s

def sniff(interface, port, out):
    """Until SIGTERM: one line per WireGuard message to or from `port` on `interface`:
    source, destination, message type, UDP payload length."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = packet_socket(interface)
    with open(out, "w") as f:
        print("ready", file=f, flush=True)
        while not stop:
            ready, _, _ = select.select([s], [], [], 0.1)
            if not ready:
                continue
            packet, address = s.recvfrom(70000)
            parsed = parse_ip(packet, address[1])
            if parsed is None or port not in (parsed[2], parsed[3]) or not parsed[4]:
                continue
            print(parsed[0], parsed[1], parsed[4][0], len(parsed[4]), file=f, flush=True)

def replay(interface, port, source, seconds):
    """Captures one transport data message sent out of `interface` to UDP `port`, then sends
    the same bytes again to the same destination from `source` (a different address)."""
    s = packet_socket(interface)
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([s], [], [], 0.1)
        if not ready:
            continue
        packet, address = s.recvfrom(70000)
        if address[2] != socket.PACKET_OUTGOING:
            continue
        parsed = parse_ip(packet, address[1])
        if parsed and parsed[3] == port and len(parsed[4]) > 32 and parsed[4][0] == 4:
            time.sleep(0.2)  # the original is long through before its copy
            u = udp_socket(source)
            u.bind((source, 0))
            u.sendto(parsed[4], (parsed[1], port))
            print("replayed %d bytes from %s to %s:%d" % (len(parsed[4]), source, parsed[1], port))
            return
    sys.exit("no transport data message to port %d seen on %s" % (port, interface))

def junk(source, destination, port):
    """Random bytes shaped as an initiation, a response, a cookie reply and transport data."""
    u = udp_socket(source)
    u.bind((source, 0))
    for kind, length in ((1, 148), (2, 92), (3, 64), (4, 96), (4, 32)):
        u.sendto(bytes([kind, 0, 0, 0]) + os.urandom(length - 4), (destination, port))
    print("sent 5 junk messages from %s to %s:%d" % (source, destination, port))

def udp_send(source, destination, port, count):
    u = udp_socket(source)
    u.bind((source, 0))
    for i in range(count):
        u.sendto(b"conformance %d from %s" % (i, source.encode()), (destination, port))
        time.sleep(0.05)

def udp_listen(address, port, seconds, out):
    """Receives datagrams for `seconds`; one line per datagram: its source address."""
    u = udp_socket(address)
    u.bind((address, port))
    deadline = time.time() + seconds
    with open(out, "w") as f:
        print("ready", file=f, flush=True)
        while True:
            left = deadline - time.time()
            if left <= 0:
                break
            ready, _, _ = select.select([u], [], [], left)
            if ready:
                _, sender = u.recvfrom(2048)
                print(sender[0], file=f, flush=True)

def padding(path, mtu, left, right):
    """Judges a sniff of the padding check: every data message's padded plaintext (UDP payload
    less 16 bytes of header and 16 of tag) is at most the MTU and a multiple of 16 unless it is
    the MTU; each side sent messages padded to the MTU, to 1408 and to 128 bytes."""
    mtu = int(mtu)
    bad, seen = [], {left: set(), right: set()}
    for line in open(path):
        fields = line.split()
        if len(fields) != 4 or fields[2] != "4":
            continue
        source, destination, _, length = fields
        padded = int(length) - 32
        if padded == 0:
            continue  # keepalive
        seen.setdefault(source, set()).add(padded)
        if padded > mtu or (padded % 16 and padded != mtu):
            bad.append("%s -> %s: %d bytes of padded plaintext (UDP payload %s) with the MTU at %d" % (source, destination, padded, length, mtu))
    for source in (left, right):
        print("    · data messages from %s: padded plaintext lengths %s" % (source, sorted(seen.get(source, ()))))
        for wanted in (mtu, 1408, 128):
            if wanted not in seen.get(source, ()):
                bad.append("%s sent no data message padded to %d bytes" % (source, wanted))
    for line in sorted(set(bad), key=bad.index):
        print("    ✗ " + line)
    sys.exit(1 if bad else 0)

def iperf_bytes(path):
    print(int(json.load(open(path))["end"]["sum_received"]["bytes"]))

job = sys.argv[1]
args = sys.argv[2:]
if job == "sniff": sniff(args[0], int(args[1]), args[2])
elif job == "replay": replay(args[0], int(args[1]), args[2], float(args[3]))
elif job == "junk": junk(args[0], args[1], int(args[2]))
elif job == "udp-send": udp_send(args[0], args[1], int(args[2]), int(args[3]))
elif job == "udp-listen": udp_listen(args[0], int(args[1]), float(args[2]), args[3])
elif job == "padding": padding(*args)
elif job == "iperf-bytes": iperf_bytes(args[0])
else: sys.exit("unknown job " + job)
PYTHON
helper() { "$python" "$work/helper.py" "$@"; }

# ---------------------------------------------------------------------------------------------
# Helpers for the checks. The checks run with `set -e`: any command that fails ends the check
# as FAIL, and the ERR trap prints the command. `note` lines show what happened.

nl() { ip netns exec "$NSL" "$@"; }   # run in the left namespace
nr() { ip netns exec "$NSR" "$@"; }   # run in the right namespace
note() { local t=$(( ${EPOCHREALTIME/./} / 1000 - check_began )); printf '    · %d.%02ds %s\n' $((t / 1000)) $((t % 1000 / 10)) "$*"; }

# Fails the check with a message.
die() { echo "    ✗ $*"; return 1; }

# Succeeds when the command fails (a plain `! cmd` does not stop a `set -e` script).
fails() { if "$@"; then return 1; fi; return 0; }

# The implementation of a side, left or right.
impl_of() { if [[ $1 == left ]]; then echo "$left"; else echo "$right"; fi; }

# Declares, inside a check, that the check is known to fail for one side's implementation:
# the check is then XFAIL (with the reason printed) rather than FAIL. Only for wireguard-go,
# and only for the version the reason was established with.
known_issue() {
  local side=$1 version=$2 reason=$3
  [[ $(impl_of "$side") == wireguard-go ]] || return 0
  [[ $("$wggo" --version 2>/dev/null | head -1) == *"$version"* ]] || return 0
  echo "$side ($(impl_of "$side") $version): $reason" >>"$work/xfail"
}

# Starts a daemon for `ifname` in `ns` in the foreground (logging to a file) and waits for its
# UAPI socket to answer.
start_daemon() {
  local ns=$1 ifname=$2 impl=$3 log="$work/log.$2"
  echo "--- $impl $ifname started $(date +%T.%N)" >>"$log"
  case "$impl" in
    swift:*) ip netns exec "$ns" env LOG_LEVEL=verbose "$swift" -f --engine "${impl#swift:}" "$ifname" </dev/null >>"$log" 2>&1 & ;;
    wireguard-go) ip netns exec "$ns" env LOG_LEVEL=verbose WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 "$wggo" -f "$ifname" </dev/null >>"$log" 2>&1 & ;;
  esac
  echo $! >"$work/pid.$ifname"
  for _ in $(seq 100); do
    if [[ -S /var/run/wireguard/$ifname.sock ]] && ip netns exec "$ns" wg show "$ifname" >/dev/null 2>&1; then return 0; fi
    kill -0 "$(<"$work/pid.$ifname")" 2>/dev/null || die "$impl $ifname exited at start-up"
    sleep 0.05
  done
  die "$impl $ifname: no UAPI socket after 5 s"
}

# Stops the daemon of `ifname` (SIGTERM, then SIGKILL) and waits until it is gone.
stop_daemon() {
  local ifname=$1 pid
  pid=$(<"$work/pid.$ifname")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "/var/run/wireguard/$ifname.sock" "/var/run/wireguard/$ifname.stats"
}

daemon_alive() { kill -0 "$(<"$work/pid.$1")" 2>/dev/null || die "the daemon of $1 is gone"; }

# The configuration of one end of a tunnel, as `wg setconf` reads it: KEY PORT PEERPUB ALLOWED
# [ENDPOINT].
write_conf() {
  local file=$1 key=$2 port=$3 peer=$4 allowed=$5 endpoint=${6:-}
  {
    echo "[Interface]"
    echo "PrivateKey = $(<"$work/key.$key")"
    echo "ListenPort = $port"
    echo "[Peer]"
    echo "PublicKey = $peer"
    echo "PresharedKey = $(<"$work/psk")"
    echo "AllowedIPs = $allowed"
    [[ -z $endpoint ]] || echo "Endpoint = $endpoint"
  } >"$file"
}

# One end of a tunnel in NS: a daemon of IMPL for IFNAME, configured by `wg setconf` from
# $work/KEY.conf (write_conf's KEY PORT PEERPUB ALLOWED ENDPOINT; ENDPOINT may be empty), with the
# inner addresses ADDR4/24 and ADDR6/64, up at MTU.
tunnel_end() {
  local ns=$1 ifname=$2 impl=$3 key=$4 port=$5 peer=$6 allowed=$7 endpoint=$8 addr4=$9 addr6=${10} mtu=${11}
  start_daemon "$ns" "$ifname" "$impl"
  write_conf "$work/$key.conf" "$key" "$port" "$peer" "$allowed" "$endpoint"
  ip netns exec "$ns" wg setconf "$ifname" "$work/$key.conf"
  ip -n "$ns" addr add "$addr4/24" dev "$ifname"
  ip -n "$ns" addr add "$addr6/64" dev "$ifname" nodad
  ip -n "$ns" link set "$ifname" mtu "$mtu" up
}

# A fresh pair: namespaces, the veth (MTU $2, default 1500), both daemons configured with the
# IPv4 underlay endpoints (unless $3 is "no-right-endpoint": then b learns a's endpoint), the
# tunnel at MTU $1 (default 1420).
pair_up() {
  local mtu=${1:-1420} underlay_mtu=${2:-1500} endpoints=${3:-both} ns
  pair_down
  for ns in "$NSL" "$NSR"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Addresses are usable at once (no duplicate address detection); removing a primary IPv4
    # address promotes a secondary one instead of removing them all.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.default.promote_secondaries=1
  done
  ip link add "$VL" netns "$NSL" type veth peer name "$VR" netns "$NSR"
  ip -n "$NSL" addr add "$UL4/24" dev "$VL"
  ip -n "$NSL" addr add "$UL6/64" dev "$VL" nodad
  ip -n "$NSR" addr add "$UR4/24" dev "$VR"
  ip -n "$NSR" addr add "$UR6/64" dev "$VR" nodad
  ip -n "$NSL" link set "$VL" mtu "$underlay_mtu" up
  ip -n "$NSR" link set "$VR" mtu "$underlay_mtu" up

  local b_endpoint="$UL4:$PORTA"
  [[ $endpoints != no-right-endpoint ]] || b_endpoint=""
  tunnel_end "$NSL" "$IFA" "$left" a "$PORTA" "$PUBB" "$TR4/32, $TR6/128" "$UR4:$PORTB" "$TL4" "$TL6" "$mtu"
  tunnel_end "$NSR" "$IFB" "$right" b "$PORTB" "$PUBA" "$TL4/32, $TL6/128" "$b_endpoint" "$TR4" "$TR6" "$mtu"
  # The kernel reports the veth's carrier (and IPv6 starts using it) up to a second after it
  # went up; before that, neighbour discovery goes unanswered.
  wait_operstate_up "$NSL" "$VL"; wait_operstate_up "$NSR" "$VR"
}

# NS DEV: waits (at most 3 s) until DEV reports state UP.
wait_operstate_up() {
  for _ in $(seq 60); do
    [[ $(ip -n "$1" -o link show dev "$2") != *"state UP"* ]] || return 0
    sleep 0.05
  done
  die "$2 in $1 is not up after 3 s"
}

# Points a at b's IPv6 underlay address and b at a's (the outer transport becomes IPv6).
use_ipv6_underlay() {
  nl wg set "$IFA" peer "$PUBB" endpoint "[$UR6]:$PORTB"
  nr wg set "$IFB" peer "$PUBA" endpoint "[$UL6]:$PORTA"
}

# NS DESTINATION [COUNT [PING OPTIONS...]]: COUNT echo replies (default 3) within 5 s. The
# first request may wait for a handshake; a lost one is sent again within the deadline.
ping_ok() {
  local ns=$1 destination=$2 count=${3:-3} out
  shift 3 2>/dev/null || shift $#
  if out=$(ip netns exec "$ns" timeout 10 ping -n -q -c "$count" -i 0.2 -W 1 -w 5 "$@" "$destination" 2>&1); then
    note "ping${*:+ $*} $destination from ${ns: -1}: $(grep -o '[0-9]* received' <<<"$out")"
    return 0
  fi
  die "ping${*:+ $*} $destination from ${ns: -1}: $(tr '\n' ' ' <<<"$out")"
}

# NS DESTINATION: no echo reply at all to 3 requests within 1 s.
ping_none() {
  local ns=$1 destination=$2 out
  out=$(ip netns exec "$ns" timeout 10 ping -n -q -c 3 -i 0.2 -W 1 -w 1 "$destination" 2>&1 || true)
  if [[ $out == *" 0 received"* ]]; then note "ping $destination from ${ns: -1}: no reply, as expected"; return 0; fi
  die "ping $destination from ${ns: -1} got replies it must not get: $(tr '\n' ' ' <<<"$out")"
}

# Waits until something in NS listens on TCP or UDP PORT.
wait_listen() {
  local ns=$1 proto=$2 port=$3
  for _ in $(seq 100); do
    [[ -z $(ss -N "$ns" "-${proto}lnH" "sport = :$port") ]] || return 0
    sleep 0.05
  done
  die "nothing listens on $proto port $port in $ns"
}

# SERVER_NS SERVER_ADDRESS CLIENT_NS [SECONDS]: one TCP flow (iperf3) from client to server for
# SECONDS (default 1), which must carry at least 1 MB.
tcp_ok() {
  local sns=$1 address=$2 cns=$3 seconds=${4:-1} port=5201 bytes
  ip netns exec "$sns" timeout $((seconds + 10)) iperf3 -s -1 -B "$address" -p "$port" >"$work/iperf-server.log" 2>&1 &
  local server=$!
  wait_listen "$sns" t "$port"
  ip netns exec "$cns" timeout $((seconds + 10)) iperf3 -c "$address" -p "$port" -t "$seconds" -J >"$work/iperf.json" \
    || die "iperf3 to $address failed: $(grep -o '"error":.*' "$work/iperf.json")"
  wait "$server" || die "the iperf3 server on $address failed: $(tail -2 "$work/iperf-server.log")"
  bytes=$(helper iperf-bytes "$work/iperf.json")
  note "TCP to $address: $bytes bytes in $seconds s"
  ((bytes >= 1000000)) || die "TCP to $address carried only $bytes bytes"
}

# NS IFNAME PEERPUB: the endpoint `wg show` reports for the peer.
endpoint_of() { ip netns exec "$1" wg show "$2" endpoints | awk -v peer="$3" '$1 == peer { print $2 }'; }

# NS IFNAME PEERPUB EXPECTED [WHAT]
expect_endpoint() {
  local actual
  actual=$(endpoint_of "$1" "$2" "$3")
  [[ $actual == "$4" ]] || die "${5:-endpoint} on ${2}: '$actual', expected '$4'"
  note "${5:-endpoint} on $2: $actual"
}

# NS IFNAME PEERPUB: latest handshake, seconds since the epoch (0: none).
handshake_of() { ip netns exec "$1" wg show "$2" latest-handshakes | awk -v peer="$3" '$1 == peer { print $2 }'; }

# NS IFNAME PEERPUB: received and sent bytes of the peer, "RX TX".
transfer_of() { ip netns exec "$1" wg show "$2" transfer | awk -v peer="$3" '$1 == peer { print $2, $3 }'; }

# ---------------------------------------------------------------------------------------------
# The checks. Each is a function check_<name> (dashes become underscores) listed in `checks`.

checks=()

# 1. Ping and a bounded TCP flow through the tunnel, for each inner and outer address family.
checks+=(tunnel-v4-in-v4 tunnel-v6-in-v4 tunnel-v4-in-v6 tunnel-v6-in-v6)
check_tunnel_v4_in_v4() {
  pair_up
  ping_ok "$NSL" "$TR4" 3; ping_ok "$NSR" "$TL4" 3
  tcp_ok "$NSR" "$TR4" "$NSL"
  expect_endpoint "$NSR" "$IFB" "$PUBA" "$UL4:$PORTA"
}
check_tunnel_v6_in_v4() {
  pair_up
  ping_ok "$NSL" "$TR6" 3; ping_ok "$NSR" "$TL6" 3
  tcp_ok "$NSL" "$TL6" "$NSR"
  expect_endpoint "$NSR" "$IFB" "$PUBA" "$UL4:$PORTA"
}
check_tunnel_v4_in_v6() {
  pair_up; use_ipv6_underlay
  ping_ok "$NSL" "$TR4" 3; ping_ok "$NSR" "$TL4" 3
  tcp_ok "$NSL" "$TL4" "$NSR"
  expect_endpoint "$NSR" "$IFB" "$PUBA" "[$UL6]:$PORTA"
  expect_endpoint "$NSL" "$IFA" "$PUBB" "[$UR6]:$PORTB"
}
check_tunnel_v6_in_v6() {
  pair_up; use_ipv6_underlay
  ping_ok "$NSL" "$TR6" 3; ping_ok "$NSR" "$TL6" 3
  tcp_ok "$NSR" "$TR6" "$NSL"
  expect_endpoint "$NSR" "$IFB" "$PUBA" "[$UL6]:$PORTA"
}

# 2. Big MTUs: full-size pings with DF (inner packet exactly the tunnel MTU) over both outer
# families, and TCP, at tunnel MTU 9000 and 34736 (the kernel test's 34816 - 1500 + 1420), the
# veth 80 bytes larger (IPv6 + UDP + WireGuard overhead).
checks+=(mtu-9000 mtu-34736)
big_mtu() {
  local mtu=$1
  pair_up "$mtu" $((mtu + 80))
  ping_ok "$NSL" "$TR4" 3 -M do -s $((mtu - 28))
  ping_ok "$NSR" "$TL6" 3 -M do -s $((mtu - 48))
  tcp_ok "$NSR" "$TR4" "$NSL" 1
  use_ipv6_underlay
  ping_ok "$NSL" "$TR6" 3 -M do -s $((mtu - 48))
  ping_ok "$NSR" "$TL4" 3 -M do -s $((mtu - 28))
  tcp_ok "$NSL" "$TL6" "$NSR" 1
}
check_mtu_9000() { big_mtu 9000; }
check_mtu_34736() { big_mtu 34736; }

# 3. Padding: transport data is padded to a multiple of 16 bytes, but never beyond the tunnel
# MTU. With the MTU at 1423 (not a multiple of 16), a 1409- or 1423-byte packet must go out
# padded to exactly 1423 (UDP payload 1455), not 1424. A sniffer on the right veth sees every
# message both ways (a's requests, b's replies); any data message whose padded length exceeds
# the MTU, or is neither a multiple of 16 nor the MTU, fails the check.
checks+=(padding-capped-at-mtu)
check_padding_capped_at_mtu() {
  local mtu=1423 sniffer size
  pair_up "$mtu" 1500
  ping_ok "$NSL" "$TR4" 1   # the handshake, before the sniffer
  nr timeout 30 "$python" "$work/helper.py" sniff "$VR" "$PORTB" "$work/sniff" &
  sniffer=$!
  for _ in $(seq 50); do [[ -s $work/sniff ]] && break; sleep 0.05; done
  # IPv4 inner packets of 1423, 1409, 1400 and 128 bytes; IPv6 of 1423 and 1410.
  for size in 1395 1381 1372 100; do ping_ok "$NSL" "$TR4" 2 -M do -s "$size"; done
  for size in 1375 1362; do ping_ok "$NSL" "$TR6" 2 -M do -s "$size"; done
  kill -TERM "$sniffer"; wait "$sniffer" || true
  helper padding "$work/sniff" "$mtu" "$UL4" "$UR4"
}

# 4. Roaming: a changes its underlay address and listen port; b must learn the new endpoint
# from a's authenticated packets and answer there. Then the outer family changes (a points at
# b's IPv6 address), then the same from b's side. Neither junk nor a replayed genuine packet
# from another address may move an endpoint.
checks+=(roaming roaming-not-by-junk-or-replay)
check_roaming() {
  pair_up
  ping_ok "$NSL" "$TR4" 2
  expect_endpoint "$NSR" "$IFB" "$PUBA" "$UL4:$PORTA" "b's endpoint for a"
  # a moves: 198.18.20.1 becomes 198.18.20.11, listen port 40211.
  ip -n "$NSL" addr add 198.18.20.11/24 dev "$VL"
  ip -n "$NSL" addr del "$UL4/24" dev "$VL"
  nl wg set "$IFA" listen-port 40211
  ping_ok "$NSL" "$TR6" 2
  expect_endpoint "$NSR" "$IFB" "$PUBA" "198.18.20.11:40211" "b's endpoint for a after a moved"
  # a switches to IPv6: b must follow to a's IPv6 address.
  nl wg set "$IFA" listen-port 40212 peer "$PUBB" endpoint "[$UR6]:$PORTB"
  ping_ok "$NSL" "$TR4" 2
  expect_endpoint "$NSR" "$IFB" "$PUBA" "[$UL6]:40212" "b's endpoint for a after a went IPv6"
  # b moves: its IPv6 address changes and its port; a must learn it from b's traffic.
  ip -n "$NSR" addr add 2001:2:0:20::12/64 dev "$VR" nodad
  ip -n "$NSR" addr del "$UR6/64" dev "$VR"
  nr wg set "$IFB" listen-port 40222
  ping_ok "$NSR" "$TL6" 2
  expect_endpoint "$NSL" "$IFA" "$PUBB" "[2001:2:0:20::12]:40222" "a's endpoint for b after b moved"
  # b switches back to IPv4: a must follow.
  nr wg set "$IFB" peer "$PUBA" endpoint "198.18.20.11:40212"
  ping_ok "$NSR" "$TL4" 2
  expect_endpoint "$NSL" "$IFA" "$PUBB" "$UR4:40222" "a's endpoint for b after b went IPv4"
}
check_roaming_not_by_junk_or_replay() {
  local replayer
  pair_up
  ping_ok "$NSL" "$TR4" 2
  ip -n "$NSL" addr add 198.18.20.13/24 dev "$VL"
  # Junk shaped as every message type, from another address of a's namespace.
  nl "$python" "$work/helper.py" junk 198.18.20.13 "$UR4" "$PORTB" | sed 's/^/    · /'
  sleep 0.3
  expect_endpoint "$NSR" "$IFB" "$PUBA" "$UL4:$PORTA" "b's endpoint for a after junk"
  # A genuine data message of a, captured on the veth and sent again from 198.18.20.13: it
  # authenticates, but its counter was seen, so it must not move b's endpoint.
  nl timeout 10 "$python" "$work/helper.py" replay "$VL" "$PORTB" 198.18.20.13 5 >"$work/replay" 2>&1 &
  replayer=$!
  sleep 0.3
  ping_ok "$NSL" "$TR4" 2
  wait "$replayer" || die "$(cat "$work/replay")"
  note "$(cat "$work/replay")"
  sleep 0.3
  expect_endpoint "$NSR" "$IFB" "$PUBA" "$UL4:$PORTA" "b's endpoint for a after the replay"
  # wireguard-swift keeps its drop counters in /var/run/wireguard/<ifname>.stats: there the
  # copy must show up as a replay (it reached b and authenticated, so the check was not idle).
  if [[ -e /var/run/wireguard/$IFB.stats ]]; then
    local replayed=0
    for _ in $(seq 40); do
      replayed=$(sed -n 's/^replayed=//p' "/var/run/wireguard/$IFB.stats")
      ((replayed >= 1)) && break
      sleep 0.05
    done
    note "b's drop counters: $(tr '\n' ' ' <"/var/run/wireguard/$IFB.stats")"
    ((replayed >= 1)) || die "b counted no replayed message: the copy never reached b's counter check"
  fi
  ping_ok "$NSR" "$TL4" 2
}

# 5. Sticky sockets (source address of replies), as the kernel test does it:
#  - fallback: a's source address (198.18.20.1, then 2001:2:0:20::1) is removed while a talks to
#    b; a must go on from its remaining address, and b must see that address;
#  - reply source: a has two addresses per family; whichever b sends to, a must answer from it,
#    so b's endpoint for a stays the address b chose (an implementation that answers from the
#    route's preferred source moves b's endpoint to the other address);
#  - other interface: b sends to an address of a dummy interface of a's namespace (reached over
#    the veth); a must answer from that address.
checks+=(sticky-fallback sticky-reply-source sticky-other-interface)
check_sticky_fallback() {
  pair_up
  ping_ok "$NSL" "$TR4" 2
  known_issue left 0.0.20220316 "keeps sending from the removed source address (sendmsg: network is unreachable) instead of falling back: the stale-source bug of that release"
  ip -n "$NSL" addr add 198.18.20.10/24 dev "$VL"
  ip -n "$NSL" addr del "$UL4/24" dev "$VL"
  ping_ok "$NSL" "$TR4" 2
  expect_endpoint "$NSR" "$IFB" "$PUBA" "198.18.20.10:$PORTA" "b's endpoint for a after a's IPv4 address went"
  nl wg set "$IFA" peer "$PUBB" endpoint "[$UR6]:$PORTB"
  ping_ok "$NSL" "$TR4" 2
  ip -n "$NSL" addr add 2001:2:0:20::10/64 dev "$VL" nodad
  ip -n "$NSL" addr del "$UL6/64" dev "$VL"
  ping_ok "$NSL" "$TR4" 2
  expect_endpoint "$NSR" "$IFB" "$PUBA" "[2001:2:0:20::10]:$PORTA" "b's endpoint for a after a's IPv6 address went"
}
# NS DESTINATION: the source address the kernel picks for DESTINATION in NS.
route_source() { ip -n "$1" route get "$2" | sed -n 's/.* src \([^ ]*\).*/\1/p'; }

check_sticky_reply_source() {
  local endpoint source4 source6
  pair_up
  ip -n "$NSL" addr add 198.18.20.3/24 dev "$VL"
  ip -n "$NSL" addr add 2001:2:0:20::3/64 dev "$VL" nodad
  # The check can fail: for each family the kernel's own choice of source towards b is one of
  # a's two addresses, so answering from that choice moves b's endpoint at the other one.
  source4=$(route_source "$NSL" "$UR4") source6=$(route_source "$NSL" "$UR6")
  [[ $source4 == "$UL4" || $source4 == 198.18.20.3 ]] || die "a's route source towards $UR4 is '$source4'"
  [[ $source6 == "$UL6" || $source6 == 2001:2:0:20::3 ]] || die "a's route source towards $UR6 is '$source6'"
  note "a's route-chosen sources towards b: $source4 and $source6 (only the other addresses tell stickiness apart)"
  for endpoint in "$UL4:$PORTA" "[$UL6]:$PORTA" "198.18.20.3:$PORTA" "[2001:2:0:20::3]:$PORTA" "$UL4:$PORTA"; do
    nr wg set "$IFB" peer "$PUBA" endpoint "$endpoint"
    ping_ok "$NSR" "$TL4" 2
    expect_endpoint "$NSR" "$IFB" "$PUBA" "$endpoint" "b's endpoint for a after b sent to $endpoint"
  done
}
check_sticky_other_interface() {
  local other=wgcf${tag}x1
  pair_up
  # A second interface in a's namespace (a veth pair of its own, both ends there; this
  # kernel may have no dummy driver) holds 198.18.21.1; b reaches it over the veth.
  ip -n "$NSL" link add "$other" type veth peer name "wgcf${tag}x2"
  ip -n "$NSL" addr add 198.18.21.1/24 dev "$other"
  ip -n "$NSL" link set "$other" up
  ip -n "$NSL" link set "wgcf${tag}x2" up
  ip -n "$NSR" route add 198.18.21.0/24 dev "$VR"
  [[ $(route_source "$NSL" "$UR4") == "$UL4" ]] || die "a's route source towards $UR4 is not $UL4"
  nr wg set "$IFB" peer "$PUBA" endpoint "198.18.21.1:$PORTA"
  ping_ok "$NSR" "$TL4" 2
  expect_endpoint "$NSR" "$IFB" "$PUBA" "198.18.21.1:$PORTA" "b's endpoint for a (sent to an address of another interface of a)"
}

# 6. Crypto-routing. A packet from b whose inner source is not among b's allowed IPs is dropped
# by a; allowed IPs changed while traffic flows take effect at once; a more specific allowed IP
# of another peer takes the address away from b (and b's authenticated packets still move b's
# endpoint, although their inner packets are dropped).
checks+=(allowed-ips-source-check allowed-ips-live-change allowed-ips-more-specific-peer)

# SOURCE...: sends 5 datagrams from each SOURCE (an address in the right namespace) to a's
# inner address, port 7777, and prints the sources a's namespace received, one per line, unique.
udp_from() {
  local source listener destination=$TL4
  [[ $1 == *:* ]] && destination=$TL6
  nl timeout 10 "$python" "$work/helper.py" udp-listen "$destination" 7777 1 "$work/udp" &
  listener=$!
  wait_listen "$NSL" u 7777
  for source in "$@"; do nr timeout 5 "$python" "$work/helper.py" udp-send "$source" "$destination" 7777 5; done
  wait "$listener"
  { grep -v '^ready$' "$work/udp" || true; } | sort -u
}
check_allowed_ips_source_check() {
  local got
  pair_up
  ping_ok "$NSR" "$TL4" 2
  # b has a second inner address per family, which a does not allow for b.
  ip -n "$NSR" addr add 198.19.20.99/24 dev "$IFB"
  ip -n "$NSR" addr add 2001:2:0:21::99/64 dev "$IFB" nodad
  got=$(udp_from "$TR4" 198.19.20.99 | tr '\n' ' ')
  note "IPv4 datagrams from $TR4 and 198.19.20.99 reached a from: $got"
  [[ $got == "$TR4 " ]] || die "expected datagrams from $TR4 only, got from: $got"
  got=$(udp_from "$TR6" 2001:2:0:21::99 | tr '\n' ' ')
  note "IPv6 datagrams from $TR6 and 2001:2:0:21::99 reached a from: $got"
  [[ $got == "$TR6 " ]] || die "expected datagrams from $TR6 only, got from: $got"
}
check_allowed_ips_live_change() {
  local background sent received
  pair_up
  ping_ok "$NSL" "$TR4" 2
  # Traffic flows all along: a ping every 20 ms for 4 s from a to b's IPv6 address, which stays
  # allowed; rewriting b's allowed IPs must not disturb it (95% of it answered at least).
  nl timeout 15 ping -n -q -i 0.02 -w 4 -W 1 "$TR6" >"$work/background-ping" 2>&1 &
  background=$!
  ping_ok "$NSR" "$TL4" 3
  nl wg set "$IFA" peer "$PUBB" allowed-ips "$TR6/128"
  note "a now allows only $TR6/128 for b"
  ping_none "$NSR" "$TL4"
  ping_none "$NSL" "$TR4"
  nl wg set "$IFA" peer "$PUBB" allowed-ips "$TR4/32,$TR6/128"
  note "a allows $TR4/32 for b again"
  ping_ok "$NSR" "$TL4" 3
  ping_ok "$NSL" "$TR4" 3
  wait "$background" || true
  read -r sent received < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$work/background-ping")
  note "background ping to $TR6 while b's allowed IPs changed: $received of $sent answered"
  ((sent > 0 && received * 100 >= sent * 95)) || die "background ping to $TR6: only $received of $sent answered"
}
check_allowed_ips_more_specific_peer() {
  local got
  pair_up
  nl wg set "$IFA" peer "$PUBB" allowed-ips "198.19.20.0/24,$TR6/128"
  ping_ok "$NSR" "$TL4" 2
  got=$(udp_from "$TR4" | tr '\n' ' ')
  [[ $got == "$TR4 " ]] || die "with 198.19.20.0/24 allowed for b, datagrams from $TR4 did not arrive (got: $got)"
  note "datagrams from $TR4 arrive while b has 198.19.20.0/24"
  nl wg set "$IFA" peer "${fake_keys[0]}" allowed-ips "$TR4/32"
  nr wg set "$IFB" listen-port 40232
  got=$(udp_from "$TR4" | tr '\n' ' ')
  [[ -z $got ]] || die "with $TR4/32 given to another peer, datagrams from b's $TR4 still arrived"
  note "datagrams from $TR4 dropped while another peer has $TR4/32"
  expect_endpoint "$NSL" "$IFA" "$PUBB" "$UR4:40232" "a's endpoint for b (moved by b's authenticated, dropped packets)"
  nl wg set "$IFA" peer "${fake_keys[0]}" remove
  got=$(udp_from "$TR4" | tr '\n' ' ')
  [[ $got == "$TR4 " ]] || die "after removing the other peer, datagrams from $TR4 did not arrive (got: $got)"
  note "datagrams from $TR4 arrive again once the other peer is gone"
}

# 7. Churn: while a ping every 10 ms and a TCP flow (paced at 50 Mbit/s) run through the tunnel
# for 3 s, both sides add and remove made-up peers and allowed IPs (wg set, wg addconf, wg
# syncconf) and rewrite the real peer's allowed IPs; 95% of the pings must be answered, and both
# daemons must stay up and end with exactly their one real peer. Then: a peer removed and added again with the same public key,
# and a whole `wg setconf`, must give a fresh handshake that works, even though the other side
# has just restarted (so a stale session kept by mistake would not do).
checks+=(churn-peers-and-allowed-ips readd-peer-wg-set readd-peer-setconf)

# SIDE SECONDS: churn on one side (left: a, right: b) for SECONDS. Each round adds two made-up
# peers (of the side's twelve) and rewrites the real peer's allowed IPs with `wg set`; every
# fourth round takes a whole configuration with `wg syncconf` (the real peer as it is, plus four
# made-up peers: every other made-up peer goes, the real one stays), every fourth an extra peer
# comes with `wg addconf`, every third a made-up peer is removed. One line a round: "peers N".
churn() {
  local side=$1 seconds=$2 ns ifname realpub real_allowed conf i=0 k first net end
  if [[ $side == left ]]; then ns=$NSL ifname=$IFA realpub=$PUBB real_allowed="$TR4/32,$TR6/128" first=0 net=1
  else ns=$NSR ifname=$IFB realpub=$PUBA real_allowed="$TL4/32,$TL6/128" first=12 net=101; fi
  conf=$work/churn.$side
  end=$((${EPOCHREALTIME/./} + seconds * 1000000))
  while ((${EPOCHREALTIME/./} < end)); do
    for k in "${fake_keys[first + (2 * i) % 12]}" "${fake_keys[first + (2 * i + 1) % 12]}"; do
      ip netns exec "$ns" wg set "$ifname" peer "$k" allowed-ips "198.19.22.$((net + RANDOM % 100))/32"
    done
    ip netns exec "$ns" wg set "$ifname" peer "$realpub" allowed-ips "$real_allowed,198.19.22.$((201 + i % 50))/32"
    if ((i % 4 == 3)); then
      ip netns exec "$ns" wg showconf "$ifname" | awk '/^\[Peer\]/ { exit } { print }' >"$conf"
      ip netns exec "$ns" wg showconf "$ifname" | awk -v real="$realpub" '
        /^\[Peer\]/ { keep = 0 } /^PublicKey/ && $3 == real { keep = 1; print "[Peer]" } keep' >>"$conf"
      for k in "${fake_keys[@]:first:4}"; do
        printf '[Peer]\nPublicKey = %s\nAllowedIPs = 198.19.22.%d/32\n' "$k" $((net + RANDOM % 100)) >>"$conf"
      done
      ip netns exec "$ns" wg syncconf "$ifname" "$conf"
    fi
    if ((i % 4 == 1)); then
      printf '[Peer]\nPublicKey = %s\nAllowedIPs = 198.19.22.%d/32\n' "${fake_keys[first + 11]}" $((net + RANDOM % 100)) >"$conf.add"
      ip netns exec "$ns" wg addconf "$ifname" "$conf.add"
    fi
    ((i % 3)) || ip netns exec "$ns" wg set "$ifname" peer "${fake_keys[first + i % 12]}" remove
    echo "peers $(ip netns exec "$ns" wg show "$ifname" peers | wc -l)"
    i=$((i + 1))
  done
  # Back to the one real peer.
  for k in "${fake_keys[@]:first:12}"; do ip netns exec "$ns" wg set "$ifname" peer "$k" remove; done
  ip netns exec "$ns" wg set "$ifname" peer "$realpub" allowed-ips "$real_allowed"
}

# "N rounds, M to P peers" of a churn log.
churn_summary() { sort -k2 -n "$1" | awk 'NR == 1 { low = $2 } { high = $2; n++ } END { print n " rounds, " low " to " high " peers" }'; }

check_churn_peers_and_allowed_ips() {
  local pinger iperf_server iperf_client left_churn right_churn sent received peers
  pair_up
  ping_ok "$NSL" "$TR4" 2
  nl timeout 20 ping -n -q -i 0.01 -c 300 -W 1 "$TR4" >"$work/churn-ping" 2>&1 &
  pinger=$!
  nr timeout 15 iperf3 -s -1 -B "$TR6" -p 5202 >/dev/null 2>&1 &
  iperf_server=$!
  wait_listen "$NSR" t 5202
  # Paced: a saturated tunnel drops pings for reasons of its own (a slow receiver's socket
  # buffer), which is not what this check is about.
  nl timeout 15 iperf3 -c "$TR6" -p 5202 -t 3 -b 50M -J >"$work/churn-iperf.json" &
  iperf_client=$!
  churn left 3 >"$work/churn-left.log" 2>&1 &
  left_churn=$!
  churn right 3 >"$work/churn-right.log" 2>&1 &
  right_churn=$!
  wait "$left_churn" || die "churn on a failed: $(tail -3 "$work/churn-left.log")"
  wait "$right_churn" || die "churn on b failed: $(tail -3 "$work/churn-right.log")"
  note "churn on a: $(churn_summary "$work/churn-left.log"); on b: $(churn_summary "$work/churn-right.log")"
  wait "$iperf_client" || die "the TCP flow through the churn failed: $(grep -o '"error":.*' "$work/churn-iperf.json")"
  wait "$iperf_server" || true
  wait "$pinger" || true
  note "TCP through the churn: $(helper iperf-bytes "$work/churn-iperf.json") bytes in 3 s"
  read -r sent received < <(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$work/churn-ping")
  note "ping through the churn: $received of $sent answered"
  ((sent > 0 && received * 100 >= sent * 95)) || die "ping through the churn: only $received of $sent answered"
  daemon_alive "$IFA"; daemon_alive "$IFB"
  peers=$(nl wg show "$IFA" peers | tr '\n' ' ')
  [[ $peers == "$PUBB " ]] || die "a ends with peers '$peers', expected only b"
  peers=$(nr wg show "$IFB" peers | tr '\n' ' ')
  [[ $peers == "$PUBA " ]] || die "b ends with peers '$peers', expected only a"
  ping_ok "$NSL" "$TR4" 3; ping_ok "$NSR" "$TL6" 3
}

# Restarts b's daemon with its configuration: b has no session any more, a still has one.
restart_right() {
  stop_daemon "$IFB"
  start_daemon "$NSR" "$IFB" "$right"
  nr wg setconf "$IFB" "$work/b.conf"
  ip -n "$NSR" addr add "$TR4/24" dev "$IFB"
  ip -n "$NSR" addr add "$TR6/64" dev "$IFB" nodad
  ip -n "$NSR" link set "$IFB" up
  note "b restarted: it has no session with a"
}

# HOW: re-adds b on a after b restarted, then checks that a forgot everything of the old peer
# and handshakes afresh. set-twice: `wg set ... remove`, then `wg set` adds it; set-once: both
# in one `wg set` (one UAPI request); setconf: a's whole configuration again (replace_peers).
readd_peer() {
  local how=$1 stamp rx tx stale
  pair_up
  ping_ok "$NSL" "$TR4" 2
  [[ $(handshake_of "$NSL" "$IFA" "$PUBB") != 0 ]] || die "no handshake on a after the first ping"
  restart_right
  # The check can fail: a's old session is useless now (b drops what it seals), so only a
  # fresh handshake after the re-add lets traffic through.
  ping_none "$NSL" "$TR4"
  if [[ $how == set-twice ]]; then
    nl wg set "$IFA" peer "$PUBB" remove
    [[ -z $(nl wg show "$IFA" peers) ]] || die "b is still a peer of a after 'remove'"
    nl wg set "$IFA" peer "$PUBB" preshared-key "$work/psk" allowed-ips "$TR4/32,$TR6/128" endpoint "$UR4:$PORTB"
    note "a removed b, then added it again (two wg set commands)"
  elif [[ $how == set-once ]]; then
    nl wg set "$IFA" peer "$PUBB" remove peer "$PUBB" preshared-key "$work/psk" allowed-ips "$TR4/32,$TR6/128" endpoint "$UR4:$PORTB"
    note "a removed b and added it again in one wg set command (one UAPI request)"
  else
    nl wg setconf "$IFA" "$work/a.conf"
    note "a took its whole configuration again (wg setconf)"
  fi
  # A new peer has no handshake and no transfer yet (noted, and judged after the traffic, so
  # that a failure shows both).
  stamp=$(handshake_of "$NSL" "$IFA" "$PUBB")
  read -r rx tx < <(transfer_of "$NSL" "$IFA" "$PUBB")
  stale=""
  [[ $stamp == 0 ]] || stale="the re-added peer b still shows the old peer's handshake ($stamp); "
  [[ $rx == 0 && $tx == 0 ]] || stale+="the re-added peer b still shows the old peer's transfer ($rx received, $tx sent)"
  note "the re-added peer b on a: latest handshake $stamp, transfer $rx received, $tx sent"
  ping_ok "$NSL" "$TR4" 3
  [[ $(handshake_of "$NSL" "$IFA" "$PUBB") != 0 ]] || die "no new handshake on a"
  ping_ok "$NSR" "$TL6" 3
  [[ -z $stale ]] || die "$stale"
}
check_readd_peer_wg_set() { readd_peer set-twice; readd_peer set-once; }
check_readd_peer_setconf() { readd_peer setconf; }

# 8. fwmark: b's endpoint 198.18.21.2 / 2001:2:0:23::2 is unreachable from a's namespace by the
# main table; an ip rule sends packets marked 0x5ca1 to a table that reaches it over the veth.
# So the tunnel works only if a's daemon marks its UDP socket (SO_MARK), keeps the mark when
# its socket is bound again (new listen port), and stops when the mark is cleared. b has no
# endpoint for a: it learns a's from a's packets.
checks+=(fwmark)
check_fwmark() {
  local mark=0x5ca1
  pair_up 1420 1500 no-right-endpoint
  ip -n "$NSR" addr add 198.18.21.2/32 dev "$VR"
  ip -n "$NSR" addr add 2001:2:0:23::2/128 dev "$VR" nodad
  # b's own packets to a leave from those addresses too, so that a's endpoint for b stays
  # there whether or not b answers from the address it was sent to (that is the sticky
  # checks' business): a must need its mark for every packet.
  ip -n "$NSR" route replace 198.18.20.0/24 dev "$VR" src 198.18.21.2
  ip -n "$NSR" -6 route replace 2001:2:0:20::/64 dev "$VR" src 2001:2:0:23::2 metric 256
  [[ $(route_source "$NSR" "$UL4") == 198.18.21.2 && $(route_source "$NSR" "$UL6") == 2001:2:0:23::2 ]] \
    || die "b's route source towards a is not 198.18.21.2 / 2001:2:0:23::2"
  ip -n "$NSL" route add unreachable 198.18.21.2/32
  ip -n "$NSL" -6 route add unreachable 2001:2:0:23::2/128
  ip -n "$NSL" route add 198.18.21.2/32 dev "$VL" src "$UL4" table 100
  ip -n "$NSL" -6 route add 2001:2:0:23::2/128 dev "$VL" src "$UL6" table 100
  ip -n "$NSL" rule add fwmark "$mark" lookup 100 pref 100
  ip -n "$NSL" -6 rule add fwmark "$mark" lookup 100 pref 100
  # The construction itself: unreachable without the mark, through the veth with it.
  fails ip -n "$NSL" route get 198.18.21.2 >/dev/null 2>&1
  ip -n "$NSL" route get 198.18.21.2 mark "$mark" | grep -q "dev $VL"
  fails ip -n "$NSL" -6 route get 2001:2:0:23::2 >/dev/null 2>&1
  ip -n "$NSL" -6 route get 2001:2:0:23::2 mark "$mark" | grep -q "dev $VL"
  note "198.18.21.2 and 2001:2:0:23::2 are reachable from a's namespace only with mark $mark"

  nl wg set "$IFA" fwmark "$mark" peer "$PUBB" endpoint "198.18.21.2:$PORTB"
  [[ $(nl wg show "$IFA" fwmark) == "$mark" ]] || die "wg show fwmark: '$(nl wg show "$IFA" fwmark)', expected $mark"
  ping_ok "$NSL" "$TR4" 3
  expect_endpoint "$NSL" "$IFA" "$PUBB" "198.18.21.2:$PORTB"
  nl wg set "$IFA" listen-port 40241 peer "$PUBB" endpoint "[2001:2:0:23::2]:$PORTB"
  note "a's listen port is now 40241 (its socket bound again), endpoint b's IPv6 address"
  ping_ok "$NSL" "$TR6" 3
  expect_endpoint "$NSL" "$IFA" "$PUBB" "[2001:2:0:23::2]:$PORTB"
  expect_endpoint "$NSR" "$IFB" "$PUBA" "[$UL6]:40241" "b's endpoint for a"
  nl wg set "$IFA" fwmark 0
  note "a's fwmark cleared"
  ping_none "$NSL" "$TR6"
}

# 9. WireGuard inside WireGuard: c and d's UDP runs over the a-b tunnel's inner addresses (c
# reaches d over IPv6 inside, d reaches c over IPv4 inside); ping and TCP through c-d.
checks+=(wg-in-wg)
check_wg_in_wg() {
  pair_up
  tunnel_end "$NSL" "$IFC" "$left" c "$PORTC" "$PUBD" "$WR4/32, $WR6/128" "[$TR6]:$PORTD" "$WL4" "$WL6" 1340
  tunnel_end "$NSR" "$IFD" "$right" d "$PORTD" "$PUBC" "$WL4/32, $WL6/128" "$TL4:$PORTC" "$WR4" "$WR6" 1340
  ping_ok "$NSL" "$WR4" 3; ping_ok "$NSR" "$WL6" 3
  ping_ok "$NSL" "$WR6" 3 -M do -s $((1340 - 48))
  tcp_ok "$NSR" "$WR4" "$NSL" 1
  expect_endpoint "$NSL" "$IFC" "$PUBD" "[$TR6]:$PORTD" "c's endpoint for d"
  expect_endpoint "$NSR" "$IFD" "$PUBC" "[$TL6]:$PORTC" "d's endpoint for c (learned from c)"
}

# 10. `wg show` after traffic: a recent handshake on both sides, and transfer counters that grow
# by what was sent: 10 pings of 1028-byte packets, padded to 1040, are 10 data messages of
# 1072 bytes each way (a few keepalive bytes of slack).
checks+=(wg-show-counters)
check_wg_show_counters() {
  local now stamp rx0 tx0 rx1 tx1 side ns ifname peer want=$((10 * 1072))
  pair_up
  ping_ok "$NSL" "$TR4" 2
  sleep 0.3
  read -r rx0 tx0 < <(transfer_of "$NSL" "$IFA" "$PUBB")
  read -r brx0 btx0 < <(transfer_of "$NSR" "$IFB" "$PUBA")
  ip netns exec "$NSL" timeout 10 ping -n -q -c 10 -i 0.05 -W 1 -s 1000 "$TR4" >/dev/null || die "10 pings of 1000 bytes did not all come back"
  sleep 0.3
  read -r rx1 tx1 < <(transfer_of "$NSL" "$IFA" "$PUBB")
  read -r brx1 btx1 < <(transfer_of "$NSR" "$IFB" "$PUBA")
  note "a: +$((rx1 - rx0)) received, +$((tx1 - tx0)) sent; b: +$((brx1 - brx0)) received, +$((btx1 - btx0)) sent (expected $want each)"
  for delta in $((tx1 - tx0)) $((rx1 - rx0)) $((btx1 - btx0)) $((brx1 - brx0)); do
    ((delta >= want && delta <= want + 96)) || die "a transfer counter grew by $delta, expected $want (+ at most 96)"
  done
  now=$(date +%s)
  for side in left right; do
    if [[ $side == left ]]; then ns=$NSL ifname=$IFA peer=$PUBB; else ns=$NSR ifname=$IFB peer=$PUBA; fi
    stamp=$(handshake_of "$ns" "$ifname" "$peer")
    ((stamp > now - 60 && stamp <= now + 1)) || die "latest handshake on $ifname: $stamp, now $now"
    note "latest handshake on $ifname: $((now - stamp)) s ago"
  done
  expect_endpoint "$NSL" "$IFA" "$PUBB" "$UR4:$PORTB"
  expect_endpoint "$NSR" "$IFB" "$PUBA" "$UL4:$PORTA"
  [[ $(nl wg show "$IFA" listen-port) == "$PORTA" ]] || die "wg show listen-port on a: $(nl wg show "$IFA" listen-port)"
  [[ $(nl wg show "$IFA" public-key) == "$PUBA" ]] || die "wg show public-key on a is not a's"
  [[ $(nl wg show "$IFA" preshared-keys | awk '{ print $2 }') == "$(<"$work/psk")" ]] || die "wg show preshared-keys on a"
}

# 11. A peer restarts under traffic: b's daemon is restarted while a pings b every 0.2 s. a's
# session is dead on b's side (b drops what a seals with it) and b has nothing to send, so only
# a's new-handshake timer (data sent and nothing authenticated back for KEEPALIVE_TIMEOUT +
# REKEY_TIMEOUT = 15 s, the kernel's timers.c) brings the tunnel back: within 20 s, rather than
# at a's rekey (REKEY_AFTER_TIME, 120 s after its handshake).
checks+=(restart-under-traffic)
check_restart_under_traffic() {
  local restarted resumed delay
  pair_up
  ping_ok "$NSL" "$TR4" 2
  # -D: each reply line begins with [seconds.microseconds] of its arrival.
  ip netns exec "$NSL" timeout 45 ping -n -D -i 0.2 -W 1 "$TR4" >"$work/ping-restart.log" 2>&1 &
  sleep 1
  restart_right
  restarted=$EPOCHREALTIME
  resumed=""
  for _ in $(seq 300); do
    resumed=$(awk -v since="$restarted" '/bytes from/ { t = substr($1, 2, length($1) - 2); if (t + 0 > since + 0) { print t; exit } }' \
      "$work/ping-restart.log")
    [[ -z $resumed ]] || break
    sleep 0.1
  done
  [[ -n $resumed ]] || die "no echo reply within 30 s of b's restart"
  delay=$(awk -v a="$restarted" -v b="$resumed" 'BEGIN { printf "%.1f", b - a }')
  note "the first echo reply came $delay s after b's restart"
  awk -v d="$delay" 'BEGIN { exit !(d <= 20) }' || die "traffic resumed only $delay s after b's restart (at most 20 s)"
}

# ---------------------------------------------------------------------------------------------
# The runner.

if ((list)); then printf '%s\n' "${checks[@]}"; exit 0; fi
selected=("${checks[@]}")
if [[ -n $only ]]; then
  IFS=, read -r -a selected <<<"$only"
  for name in "${selected[@]}"; do
    [[ " ${checks[*]} " == *" $name "* ]] || { echo "conformance: no check named $name (--list lists them)" >&2; exit 2; }
  done
fi

describe() {
  case "$1" in
    swift:*) echo "$1 ($swift)" ;;
    wireguard-go) echo "wireguard-go ($wggo, $("$wggo" --version 2>/dev/null | head -1 | awk '{ print $2 }'))" ;;
  esac
}
echo "conformance: left $(describe "$left"), right $(describe "$right")"

passed=0 failed=0 xfailed=0 failures=()
started=$SECONDS
for name in "${selected[@]}"; do
  rm -f "$work/xfail" "$work"/log.*
  begin=${EPOCHREALTIME/./}
  check_began=$((begin / 1000))
  # The check runs in a background subshell: `set -e` holds inside it (it would not in an `if`),
  # and the ERR trap names the command that failed.
  (
    set -eEuo pipefail
    shopt -s inherit_errexit
    trap 'status=$?; [[ $BASH_COMMAND == "return 1" ]] || echo "    ✗ failed (status $status): line $LINENO: $BASH_COMMAND"' ERR
    # Whatever the check left running in the background goes with it.
    trap 'jobs=$(jobs -p); [[ -z $jobs ]] || kill $jobs 2>/dev/null; wait' EXIT
    trap 'exit 143' TERM
    "check_${name//-/_}"
  ) </dev/null >"$work/check.log" 2>&1 &
  check_pid=$!
  status=0
  wait "$check_pid" || status=$?
  check_pid=""
  pair_down
  elapsed=$(( (${EPOCHREALTIME/./} - begin) / 100000 ))
  elapsed=$((elapsed / 10)).$((elapsed % 10))
  if ((status == 0)); then
    passed=$((passed + 1))
    if [[ -s $work/xfail ]]; then
      printf 'PASS   %-34s %5ss  (passes although a known issue was declared: %s)\n' "$name" "$elapsed" "$(head -1 "$work/xfail")"
    else
      printf 'PASS   %-34s %5ss\n' "$name" "$elapsed"
    fi
    ((verbose == 0)) || cat "$work/check.log"
  elif [[ -s $work/xfail ]]; then
    xfailed=$((xfailed + 1))
    printf 'XFAIL  %-34s %5ss  %s\n' "$name" "$elapsed" "$(head -1 "$work/xfail")"
    cat "$work/check.log"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL   %-34s %5ss\n' "$name" "$elapsed"
    cat "$work/check.log"
    for log in "$work"/log.*; do
      [[ -e $log ]] || continue
      echo "    --- last lines of ${log##*/log.}'s daemon log"
      tail -n 12 "$log" | sed 's/^/    | /'
    done
  fi
done

summary="conformance: $passed passed, $failed failed, $xfailed xfail in $((SECONDS - started)) s ($left vs $right)"
((failed == 0)) || summary+="; failed: ${failures[*]}"
echo "$summary"
((failed == 0))
