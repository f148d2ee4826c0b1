#!/usr/bin/env bash
# Issue 13: Leasehold against Redis locks on this machine, one load generator, one session. Redis 7 runs
# twice (in memory, and appendonly yes + appendfsync always), through StackExchange.Redis: SET key token NX
# PX ttl, release by a compare-and-delete script. Leasehold runs over its native protocol (raw frames written
# with the protocol's codec, "native"; and through the .NET client, "client") and over HTTP (the load
# generator's minimal HTTP client), in memory and with fsync durability. A
# loopback echo of small messages (two round trips per cycle) is the physical bound, run twice: on plain
# sockets ("echo"), and as a Kestrel connection handler on the transport Leasehold's native port uses
# ("kestrel-echo"), which tells the transport's cost from the server's own. Every run gets freshly
# started processes on free loopback ports with temporary directories; for each load the targets run back
# to back, so machine noise falls on all of them alike. Prints every run, then one table and the issue's
# ratios.
# Usage: bench/run-redis.sh [seconds] [ttl] [warmup]
#   seconds: measured time per run (10); ttl: lock time to live in seconds, the same for all (60).
#   warmup: seconds run before measuring (15): long enough for the .NET runtime's tiered compilation to
#   finish in the server and the load generator (measured: HTTP needs 10-15 s to reach its steady state).
# Needs redis-server (Debian's redis-server, installed here with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
ttl="${2:-60}"
warmup="${3:-15}"
server=src/Leasehold.Server/bin/Release/net10.0/Leasehold.Server.dll

source bench/comparison.sh
ensure_package redis-server redis-server

dotnet build -c Release -v quiet -nologo src/Leasehold.Server
dotnet build -c Release -v quiet -nologo bench/Leasehold.LoadGen

echo "commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, warmup $warmup s, $(redis-server --version)"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT


memory=(--spawn --server-dll "$server" --server-arg --Leasehold:Durability=memory)
fsync=(--spawn --server-dll "$server" --server-arg --Leasehold:Durability=fsync)
for load in "uncontended 1" "uncontended 16" "uncontended 64" "contended 64"; do
    read -r scenario clients <<<"$load"
    if [ "$scenario" = uncontended ]; then
        run echo "$scenario" "$clients" --spawn --target echo
        run kestrel-echo "$scenario" "$clients" --spawn --target echo --echo-kestrel
    fi
    run redis "$scenario" "$clients" --spawn --target redis
    run native "$scenario" "$clients" "${memory[@]}" --protocol native-raw
    run client "$scenario" "$clients" "${memory[@]}" --protocol native
    run http "$scenario" "$clients" "${memory[@]}"
    run redis-fsync "$scenario" "$clients" --spawn --target redis --redis-fsync
    run native-fsync "$scenario" "$clients" "${fsync[@]}" --protocol native-raw
    run http-fsync "$scenario" "$clients" "${fsync[@]}"
done

echo "== acquire+release cycles per second (contended: handoffs per second), cycle latency p50 / p99 in ms, server CPU per request in µs (ttl $ttl s, $seconds s measured per run)"
awk -F'\t' '
    BEGIN { nl = split("echo kestrel-echo redis native client http redis-fsync native-fsync http-fsync", labels, " ") }
    { key = $4 " " $5; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      if ($10 == "ok" || $10 == "FAILED") cell[key, $1] = sprintf("%7s %6.2f %6.2f %5s%s", $6, $7, $8, $11, $10 == "ok" ? " " : "!")
      else cell[key, $1] = sprintf("%-28s", $10)
      rate[key, $1] = ($10 == "ok") ? $6 : ""; p99[key, $1] = ($10 == "ok") ? $8 : "" }
    END {
      printf "%-15s", "load"; for (j = 1; j <= nl; j++) printf " | %-28s", labels[j]; printf "\n"
      for (i = 1; i <= n; i++) { k = order[i]; printf "%-15s", k
        for (j = 1; j <= nl; j++) printf " | %-28s", ((k, labels[j]) in cell) ? cell[k, labels[j]] : "-"; printf "\n" }
      print "(! = the run had errors or a failed check; see its output above)"
      print "targets (issue 13):"
      ratio("uncontended 16", "native", "redis", "native in memory, 16 clients / redis in memory (>= 1.0)")
      p99cmp("uncontended 16", "native", "redis", "  p99 native <= redis")
      ratio("uncontended 64", "native", "redis", "native in memory, 64 clients / redis in memory (>= 1.0)")
      p99cmp("uncontended 64", "native", "redis", "  p99 native <= redis")
      ratio("uncontended 16", "client", "redis", "  the same through the .NET client, 16 clients")
      ratio("uncontended 64", "client", "redis", "  the same through the .NET client, 64 clients")
      ratio("uncontended 64", "native-fsync", "redis-fsync", "native fsync, 64 clients / redis appendfsync always (>= 1.0)")
      ratio("uncontended 64", "http", "redis", "HTTP in memory, 64 clients / redis in memory (>= 0.5)")
      e = rate["uncontended 1", "echo"]; h = rate["contended 64", "native"]
      printf "  %-62s %s\n", "native hot key handoffs/s / echo round trips/s of one connection (>= 0.8)", (e > 0 && h != "") ? sprintf("%.2fx (%s / %d)", h / (2 * e), h, 2 * e) : "n/a"
    }
    function ratio(k, a, b, what,   x, y) { x = rate[k, a]; y = rate[k, b]
      printf "  %-62s %s\n", what, (x != "" && y > 0) ? sprintf("%.2fx", x / y) : "n/a" }
    function p99cmp(k, a, b, what,   x, y) { x = p99[k, a]; y = p99[k, b]
      printf "  %-62s %s\n", what, (x != "" && y != "") ? sprintf("%s (%s vs %s ms)", (x + 0 <= y + 0) ? "yes" : "no", x, y) : "n/a" }' "$summary"
