/// The harness's constant shell scripts. Data never become script text: each script takes its
/// values as positional arguments (`sh -c <script> <name> <arguments>`), which `ShellRenderer` adds.
enum ShellScripts {
    /// Starts a daemon at LOG_LEVEL $3, its output appended to the log $1 up to $2 bytes, through a FIFO to a reader in the
    /// background that copies the first bytes, notes the cap when more comes, and then goes on reading and discarding (a reader
    /// that stopped reading, `head -c` alone, would kill the daemon with SIGPIPE at its next log line). `exec` leaves no shell
    /// behind: the start's exit status is the daemon's, and the reader ends when the daemon closes its output (it exits).
    static let daemon = """
        l=$1; c=$2; v=$3; shift 3; p="$l.fifo-$$"
        rm -f "$p" && mkfifo -m 600 "$p" || exit 1
        { rm -f "$p"; head -c "$c"; if IFS= read -r _; then printf '\\n[wgbench: log capped at %s bytes]\\n' "$c"; cat >/dev/null; fi; } <"$p" >>"$l" 2>/dev/null &
        exec env LOG_LEVEL="$v" "$@" >"$p" 2>&1
        """

    /// Deletes the interface $1, then waits (up to 5 s) until its daemon's UAPI socket is gone.
    static let deleteAndWaitForDaemon = """
        ip link del "$1" || exit 1
        for i in $(seq 50); do [ -S "/var/run/wireguard/$1.sock" ] || exit 0; sleep 0.1; done
        echo "the daemon of $1 did not exit within 5 s of its interface's deletion" >&2; exit 1
        """

    /// One pgrep for all daemons of program $1 in this network namespace (it reads every process's command line), then a
    /// line per interface: `<interface> <up|gone> <running|dead|-> <handshake epoch or 0>`.
    static let tunnelHealth = """
        d=$1; shift; ps=; if [ "$d" != - ]; then ps=$(pgrep -a --ns $$ --nslist net -f "^([^ ]*/)?$d[^ /]*( |$)"); fi
        for i; do
          if [ -d "/sys/class/net/$i" ]; then l=up; else l=gone; fi
          p=-; if [ "$d" != - ]; then if printf '%s\\n' "$ps" | grep -q " $i\\$"; then p=running; else p=dead; fi; fi
          h=$(wg show "$i" latest-handshakes 2>/dev/null | awk '{print $2; exit}')
          echo "$i $l $p ${h:-0}"
        done
        """

    /// `<interface> <name>=<count>` for each counter of each interface with a stats file; first waits 300 ms unless $1 is 0.
    static let daemonDrops = """
        [ "$1" = 0 ] || sleep 0.3; shift
        for i; do f=/var/run/wireguard/$i.stats; [ -f "$f" ] && sed "s|^|$i |" "$f"; done; exit 0
        """

    /// Lists (`list`) or removes and lists (`remove`) every run folder this host marked.
    static let sweepRunFolders = """
        ns=$(stat -L -c %i /proc/self/ns/net) || exit 1
        for d in \(HostFolders.runs)/*/; do [ -e "$d.host-$ns" ] || continue; if [ "$1" = remove ]; then rm -rf "$d" || exit 1; fi; echo "${d%/}"; done; exit 0
        """

    /// $1 samples of /proc/uptime and /proc/stat, $2 seconds apart, then the shell's `times`.
    static let sampler = """
        i=0
        while [ "$i" -lt "$1" ]; do echo @sample; cat /proc/uptime /proc/stat; i=$((i+1)); if [ "$i" -lt "$1" ]; then sleep "$2"; fi; done
        echo @times; times
        """

    /// The lease file's one script (`LeaseCommands`): operation, token, line, expected token.
    static let lease = """
        set -u; d=/run/wgbench; mkdir -p "$d" || exit 1
        ns=$(stat -L -c %i /proc/self/ns/net) || exit 1; f="$d/lease-$ns"
        exec 9>>"$d/.lease-$ns.lock"; flock -w 10 9 || exit 75
        now=$(date +%s); op=$1; token=$2; line=$3; expected=$4
        ours() { [ -f "$f" ] && grep -q " token=$1 " "$f"; }
        put() { printf '%s renewed=%s\\n' "$line" "$now" > "$f.new" && mv -f "$f.new" "$f"; }
        case $op in
        acquire) if [ -e "$f" ]; then echo "held $now"; cat "$f"; exit 10; fi; put && echo "free $now" ;;
        takeover) if [ -e "$f" ] && [ "$expected" != "*" ] && ! ours "$expected"; then echo "held $now"; cat "$f"; exit 10; fi; put && echo "free $now" ;;
        renew) if ! ours "$token"; then echo "lost $now"; cat "$f" 2>/dev/null; exit 11; fi; put && echo "free $now" ;;
        release) if ours "$token"; then rm -f "$f"; fi; echo "free $now" ;;
        show) if [ -e "$f" ]; then echo "held $now"; cat "$f"; else echo "free $now"; fi ;;
        *) exit 2 ;;
        esac
        """

    /// `@section` headers and the quiet-machine check's raw readings.
    static let preflight = """
        echo @governor; cat /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor 2>/dev/null
        echo @no_turbo; cat /sys/devices/system/cpu/intel_pstate/no_turbo 2>/dev/null
        echo @boost; cat /sys/devices/system/cpu/cpufreq/boost 2>/dev/null
        echo @idle; for s in /sys/devices/system/cpu/cpu0/cpuidle/state*; do [ -d "$s" ] && echo "$(cat "$s/name") $(cat "$s/disable")"; done
        echo @irqbalance; pgrep -x irqbalance >/dev/null && echo running || echo stopped
        echo @stat; head -n 1 /proc/stat; sleep 1; head -n 1 /proc/stat
        echo @busiest; ps -eo pcpu=,comm= --sort=-pcpu | head -n 5
        """

    /// The online CPU list, `node*/cpulist` lines and one `@nic NAME NODE RXQUEUES` line per NIC argument.
    static let topology = """
        cat /sys/devices/system/cpu/online
        grep -H . /sys/devices/system/node/node*/cpulist 2>/dev/null
        for n; do
          printf '@nic %s %s %s\\n' "$n" "$(cat "/sys/class/net/$n/device/numa_node" 2>/dev/null || echo -1)" "$(ls "/sys/class/net/$n/queues" 2>/dev/null | grep -c '^rx-')"
        done
        """

    /// Waits up to 5 s for the daemons matching $1 in this network namespace to exit, then terminates those left.
    static let stopDaemons = """
        for i in $(seq 50); do pgrep --ns $$ --nslist net -f "$1" >/dev/null || exit 0; sleep 0.1; done
        pkill --ns $$ --nslist net -TERM -f "$1"; sleep 0.5; exit 0
        """

    /// The machine's name, OpenSSL's version, then `openssl speed` sealing and opening $1-byte
    /// packets for $2 s each, under `@seal` and `@open`; exits 0 whatever happens.
    static let cryptoFloor = """
        echo "@host $(uname -n)"
        command -v openssl >/dev/null 2>&1 || { echo "@unavailable openssl is not installed (not on PATH)"; exit 0; }
        echo "@tool $(openssl version 2>&1)"
        echo @seal; openssl speed -mr -aead -evp \(CryptoFloorCommands.cipher) -bytes "$1" -seconds "$2" 2>&1 || echo "@failed $?"
        echo @open; openssl speed -mr -aead -decrypt -evp \(CryptoFloorCommands.cipher) -bytes "$1" -seconds "$2" 2>&1 || echo "@failed $?"
        """

    /// Pins every thread of each process matching $1 to the CPU list $2.
    static let pin = "pids=$(pgrep -f \"$1\") || exit 3; for p in $pids; do taskset -a -p -c \"$2\" \"$p\" >/dev/null || exit 4; done"

    /// `pid <tid>'s current affinity list: <cpus>` for every thread of each process matching $1
    /// (a thread that ends meanwhile is left out).
    static let daemonAffinity = "pids=$(pgrep -f \"$1\") || exit 3; for p in $pids; do for t in /proc/$p/task/*; do taskset -c -p \"${t##*/}\" 2>/dev/null; done; done; exit 0"

    /// One ping to each address at once: a tunnel that has not handshaken yet does so on its first packet.
    static let handshake = "for a; do ping -c 1 -W 2 -q \"$a\" >/dev/null 2>&1 & done; wait; exit 0"

    /// Kills the iperf3 server of each PID file there is.
    static let killServers = "for f; do [ -f \"$f\" ] && kill \"$(cat \"$f\")\" 2>/dev/null; done; exit 0"

    /// Makes the run folder $1 and marks it with this host's network namespace.
    static let prepareRunFolder = "ns=$(stat -L -c %i /proc/self/ns/net) && mkdir -p \"$1\" && : > \"$1/.host-$ns\""
}
