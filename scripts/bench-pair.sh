#!/usr/bin/env bash
# Userspace WireGuard daemons side by side through one tunnel between two network namespaces,
# in one run, and their ratios to a baseline (the first daemon named): the quick setting of
# issue 12 next to the local testbed's experiment (experiments/datapath-vs-upstream.yaml).
#
#   ns wgsp-a                                            ns wgsp-b
#   [iperf3 client] 198.19.12.1 ── wgspa ═ UDP ═ wgspb ── 198.19.12.2 [iperf3 server]
#                   veth 198.18.12.1/24 ─────────────── 198.18.12.2/24
#
# Both ends run the same daemon; one TCP flow (or UDP with --udp) from a to b for --seconds,
# after --omit. Rounds alternate the daemons (a, b, c, a, b, c, ...), since this machine's
# throughput drifts by tens of percent within minutes; medians over the rounds are compared.
# Per run it records iperf3's JSON, the whole machine's busy CPU time (/proc/stat, every CPU,
# kernel and both iperf3 ends included) and each daemon's own (utime + stime): CPU-seconds per
# GB received. With --perf DIR the first round also records `perf record -g` of each daemon.
#
# With --floods KIND,KIND,... every daemon is measured once per kind of junk sent at --flood-rate
# datagrams a second (paced every 10 ms, for the whole run) from a's namespace to b's listen
# port, as NAME.KIND: `none` (no flood), `initiation` (148 bytes typed as an initiation, random
# body: mac1 does not verify), `transport` (148 bytes typed as a transport message for an unknown
# receiver index). Issue 13's flood benchmark compares the first two kinds of junk.
#
#   scripts/bench-pair.sh [--seconds 8] [--omit 1] [--rounds 3] [--mtu 1420] [--udp] [--reverse]
#                         [--floods none,initiation,transport] [--flood-rate 50000]
#                         [--perf DIR] [--out DIR] NAME=COMMAND [NAME=COMMAND ...]
#   e.g.  scripts/bench-pair.sh upstream=/tmp/wireguard-go-upstream/wireguard-go-f333402 \
#           debian=wireguard-go inline=".build/release/wireguard-swift --engine inline" \
#           parallel=".build/release/wireguard-swift --engine parallel"
#
# Everything it makes (namespaces wgsp-a/b, their daemons, iperf3) is removed on exit. Addresses:
# 198.18.12.0/24 and 198.19.12.0/24 only. Needs root, iperf3, wg, python3 (and perf for --perf).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/as-root.sh

seconds=8 omit=1 rounds=3 mtu=1420 udp=0 reverse=0 perfdir="" out="" floods=none flood_rate=50000
daemons=()
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --omit) omit=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --mtu) mtu=$2; shift 2 ;;
    --udp) udp=1; shift ;;
    --reverse) reverse=1; shift ;;
    --floods) floods=$2; shift 2 ;;
    --flood-rate) flood_rate=$2; shift 2 ;;
    --perf) perfdir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *=*) daemons+=("$1"); shift ;;
    *) echo "bench-pair: unknown argument $1" >&2; exit 2 ;;
  esac
done
((${#daemons[@]})) || { echo "bench-pair: name at least one daemon as NAME=COMMAND" >&2; exit 2; }
out=${out:-results/pair-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
[ -z "$perfdir" ] || mkdir -p "$perfdir"

A=wgsp-a B=wgsp-b IA=wgspa IB=wgspb
export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1  # wireguard-go's, Debian's and upstream's

teardown() {
  for ns in $A $B; do
    ip netns list | grep -qw "$ns" || continue
    ip -n "$ns" link del "$IA" 2>/dev/null || true
    ip -n "$ns" link del "$IB" 2>/dev/null || true
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    sleep 0.2
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns"
  done
  rm -f /var/run/wireguard/$IA.sock /var/run/wireguard/$IB.sock
}
trap teardown EXIT

# The daemon process of an interface (the one whose command line ends with it).
daemon_pid() { pgrep -f -- " $1\$" | head -1; }

up() {  # up COMMAND: both ends with this daemon, configured, a handshake done
  local command=$1
  teardown
  ip netns add $A; ip netns add $B
  ip link add va netns $A type veth peer name vb netns $B
  ip -n $A addr add 198.18.12.1/24 dev va; ip -n $B addr add 198.18.12.2/24 dev vb
  for ns in $A $B; do ip -n $ns link set lo up; done
  ip -n $A link set va up; ip -n $B link set vb up
  # The underlay carries the largest tunnel packets whole (a jumbo underlay, as a large tunnel MTU wants).
  if ((mtu > 1420)); then ip -n $A link set va mtu $((mtu + 80)); ip -n $B link set vb mtu $((mtu + 80)); fi
  ip netns exec $A $command $IA >>"$out/daemons.log" 2>&1
  ip netns exec $B $command $IB >>"$out/daemons.log" 2>&1
  local ka kb
  ka=$(wg genkey); kb=$(wg genkey)
  printf '[Interface]\nPrivateKey = %s\nListenPort = 40121\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.19.12.2/32\nEndpoint = 198.18.12.2:40122\n' \
    "$ka" "$(echo "$kb" | wg pubkey)" | ip netns exec $A wg setconf $IA /dev/stdin
  printf '[Interface]\nPrivateKey = %s\nListenPort = 40122\n[Peer]\nPublicKey = %s\nAllowedIPs = 198.19.12.1/32\nEndpoint = 198.18.12.1:40121\n' \
    "$kb" "$(echo "$ka" | wg pubkey)" | ip netns exec $B wg setconf $IB /dev/stdin
  ip -n $A addr add 198.19.12.1/24 dev $IA; ip -n $B addr add 198.19.12.2/24 dev $IB
  ip -n $A link set $IA mtu "$mtu" up; ip -n $B link set $IB mtu "$mtu" up
  ip netns exec $A ping -c 2 -W 2 -q 198.19.12.2 >/dev/null
}

busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
proc_jiffies() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

flood() {  # flood KIND SECONDS: junk datagrams to b's listen port from a's namespace, paced
  ip netns exec $A timeout $(($2 + 5)) python3 - "$1" "$flood_rate" "$2" <<'PY'
import os, socket, sys, time
kind, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
first = {"initiation": 1, "transport": 4}[kind]
payloads = [bytes([first, 0, 0, 0]) + os.urandom(144) for _ in range(1024)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.12.1", 0))
per_tick, sent, start = max(1, rate // 100), 0, time.monotonic()
while (now := time.monotonic()) - start < seconds:
    due = int((now - start) * rate)
    while sent < due:
        for _ in range(min(per_tick, due - sent)):
            s.sendto(payloads[sent % 1024], ("198.18.12.2", 40122))
            sent += 1
    time.sleep(0.01)
print(f"{kind}: {sent} datagrams in {time.monotonic() - start:.1f} s", file=sys.stderr)
PY
}

run_one() {  # run_one NAME COMMAND ROUND [FLOOD]
  local name=$1 command=$2 round=$3 kind=${4:-none}
  up "$command"
  local pa pb; pa=$(daemon_pid $IA); pb=$(daemon_pid $IB)
  ip netns exec $B timeout $((seconds + omit + 20)) iperf3 -s -1 -B 198.19.12.2 -p 5212 >/dev/null 2>&1 &
  sleep 0.5
  local flags=(-c 198.19.12.2 -p 5212 -t "$seconds" -O "$omit" -J)
  ((udp)) && flags+=(-u -b 0 -l $((mtu - 28)))
  ((reverse)) && flags+=(-R)
  if [ -n "$perfdir" ] && ((round == 1)); then
    (sleep "$omit"; perf record -q -g -F 999 -p "$pa" -o "$perfdir/$name-a.data" -- sleep $((seconds - 1)) >/dev/null 2>&1) &
    (sleep "$omit"; perf record -q -g -F 999 -p "$pb" -o "$perfdir/$name-b.data" -- sleep $((seconds - 1)) >/dev/null 2>&1) &
  fi
  local j0 ja0 jb0 j1 ja1 jb1
  j0=$(busy_jiffies); ja0=$(proc_jiffies "$pa"); jb0=$(proc_jiffies "$pb")
  [ "$kind" = none ] || flood "$kind" $((seconds + omit)) 2>>"$out/floods.log" &
  timeout $((seconds + omit + 20)) ip netns exec $A iperf3 "${flags[@]}" >"$out/$name-$round.json" || true
  j1=$(busy_jiffies); ja1=$(proc_jiffies "$pa"); jb1=$(proc_jiffies "$pb")
  wait
  echo "$name $round $((j1 - j0)) $((ja1 - ja0 + jb1 - jb0)) $(getconf CLK_TCK) $((seconds + omit))" >>"$out/cpu.txt"
  teardown
}

{ echo "# bench-pair $(date -u +%FT%TZ) seconds=$seconds omit=$omit rounds=$rounds mtu=$mtu udp=$udp reverse=$reverse"
  echo "# floods=$floods at $flood_rate/s"
  echo "# load before: $(cat /proc/loadavg)"; for d in "${daemons[@]}"; do echo "# $d"; done; } >"$out/run.txt"
: >"$out/cpu.txt"
IFS=, read -r -a kinds <<<"$floods"
names=()
for entry in "${daemons[@]}"; do
  for kind in "${kinds[@]}"; do
    case "$kind" in none|initiation|transport) ;; *) echo "bench-pair: --floods takes none, initiation, transport" >&2; exit 2 ;; esac
    if [ "$floods" = none ]; then names+=("${entry%%=*}"); else names+=("${entry%%=*}.$kind"); fi
  done
done
for round in $(seq "$rounds"); do
  for entry in "${daemons[@]}"; do
    for kind in "${kinds[@]}"; do
      name=${entry%%=*}; [ "$floods" = none ] || name=$name.$kind
      run_one "$name" "${entry#*=}" "$round" "$kind"
    done
  done
done
echo "# load after: $(cat /proc/loadavg)" >>"$out/run.txt"

python3 - "$out" "${names[@]}" <<'PY'
import json, os, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
cpu = {}
for line in open(os.path.join(out, "cpu.txt")):
    name, rnd, machine, daemons, hz, wall = line.split()
    cpu[(name, rnd)] = (int(machine) / int(hz), int(daemons) / int(hz))
rows = {}
for name in names:
    gbps, per_gb, daemon_per_gb = [], [], []
    for (n, rnd), (machine, daemons) in sorted(cpu.items()):
        if n != name: continue
        try:
            result = json.load(open(os.path.join(out, f"{name}-{rnd}.json")))
            end = result["end"]
            summary = end.get("sum_received") or end.get("sum")
            bits, seconds = summary["bits_per_second"], summary["seconds"]
            bits *= 1 - summary.get("lost_percent", 0) / 100  # UDP: what arrived
        except Exception:
            bits, seconds = 0.0, 1.0
        gbps.append(bits / 1e9)
        gb = bits * seconds / 8 / 1e9 or float("nan")
        per_gb.append(machine / gb)
        daemon_per_gb.append(daemons / gb)
    rows[name] = (statistics.median(gbps), gbps, statistics.median(per_gb), statistics.median(daemon_per_gb))
base = rows[names[0]][0]
print(f"{'daemon':<12} {'Gbit/s (median)':>16} {'x ' + names[0]:>12} {'CPU-s/GB':>9} {'daemons CPU-s/GB':>17}   rounds")
for name in names:
    median, all_, per_gb, daemon_per_gb = rows[name]
    ratio = median / base if base else float("nan")
    print(f"{name:<12} {median:>16.2f} {ratio:>12.2f} {per_gb:>9.2f} {daemon_per_gb:>17.2f}   " + " ".join(f"{g:.2f}" for g in all_))
PY
cat "$out/run.txt" | grep load
