#!/usr/bin/env bash
# Issue 12: a 3-member etcd cluster (its Lock API), a 3-node Leasehold cluster and one Leasehold server
# (fsync durability) under the same load generator in one session, at 1, 16 and 64 clients uncontended and
# 64 clients contended (one hot path), each run against freshly started processes on free loopback ports
# with temporary data directories. Both clusters run twice: clients spread over the three nodes (client c
# to node c % 3; etcd's followers pass proposals on through Raft, Leasehold's forward the HTTP request to
# the leader) and with every client sent to the leader (what forwarding costs). One more Leasehold column
# runs its .NET client over the native protocol, each client given all three nodes starting at node c % 3,
# as a user gives `--server a,b,c`: it finds the leader itself, as etcd's own client spreads by itself.
# For each load the targets run back to back, so machine noise falls on all of them alike. Prints every
# run, then one table and the ratios.
# Usage: bench/run-cluster.sh [seconds] [ttl] [warmup]
#   seconds: measured time per run (10); ttl: lease time to live in seconds, the same for every target (60).
#   warmup: seconds run before measuring (15): long enough for the .NET runtime's tiered compilation to
#   finish in the server and the load generator (measured: HTTP needs 10-15 s to reach its steady state).
# Needs etcd (Debian's etcd-server, installed here with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-10}"
ttl="${2:-60}"
warmup="${3:-15}"
server=src/Leasehold.Server/bin/Release/net10.0/Leasehold.Server.dll

source bench/comparison.sh
ensure_package etcd etcd-server

dotnet build -c Release -v quiet -nologo src/Leasehold.Server
dotnet build -c Release -v quiet -nologo bench/Leasehold.LoadGen

echo "commit $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, warmup $warmup s, $(etcd --version | head -1)"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT


for load in "uncontended 1" "uncontended 16" "uncontended 64" "contended 64"; do
    read -r scenario clients <<<"$load"
    run etcd "$scenario" "$clients" --spawn --target etcd --nodes 3
    run etcd-leader "$scenario" "$clients" --spawn --target etcd --nodes 3 --send-to leader
    run cluster "$scenario" "$clients" --spawn --server-dll "$server" --nodes 3 --server-arg --Leasehold:Durability=fsync
    run leader "$scenario" "$clients" --spawn --server-dll "$server" --nodes 3 --send-to leader --server-arg --Leasehold:Durability=fsync
    run client "$scenario" "$clients" --spawn --server-dll "$server" --nodes 3 --protocol native --server-arg --Leasehold:Durability=fsync
    run single "$scenario" "$clients" --spawn --server-dll "$server" --server-arg --Leasehold:Durability=fsync
done

echo "== acquire+release cycles per second, cycle latency p50 / p99 in ms (ttl $ttl s, $seconds s measured per run)"
awk -F'\t' '
    { key = $4 " " $5; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      if ($10 == "ok" || $10 == "FAILED") cell[key, $1] = sprintf("%8s %8.2f %8.2f%s", $6, $7, $8, $10 == "ok" ? "  " : " !")
      else cell[key, $1] = sprintf("%-27s", $10)
      rate[key, $1] = ($10 == "ok") ? $6 : "" }
    function ratio(a, b, f) { return (a != "" && b > 0) ? sprintf(f, a / b) : "n/a" }
    END {
      printf "%-19s | %-27s | %-27s | %-27s | %-27s | %-27s | %-27s\n", "load", "etcd 3 members, spread", "etcd 3, all to leader", "leasehold 3 nodes, spread", "leasehold 3, all to leader", "leasehold 3, .NET client", "leasehold 1 node (fsync)"
      for (i = 1; i <= n; i++) { k = order[i]; split(k, p, " ")
        printf "%-19s | %s | %s | %s | %s | %s | %s\n", p[1] " " p[2], cell[k, "etcd"], cell[k, "etcd-leader"], cell[k, "cluster"], cell[k, "leader"], cell[k, "client"], cell[k, "single"] }
      print "(! = the run had errors or a failed check; see its output above)"
      print "ratios at 64 clients (targets: cluster/etcd >= 5, cluster/single >= 0.5), each way of sending compared with the same way:"
      for (i = 1; i <= n; i++) { k = order[i]; split(k, p, " ")
        if (p[2] != 64) continue
        s = rate[k, "single"]
        printf "  %s: spread/spread %s, spread/single %s; leader/leader %s, leader/single %s; .NET client/etcd spread %s, .NET client/single %s; single/etcd spread %s\n", p[1],
            ratio(rate[k, "cluster"], rate[k, "etcd"], "%.1fx"), ratio(rate[k, "cluster"], s, "%.2fx"),
            ratio(rate[k, "leader"], rate[k, "etcd-leader"], "%.1fx"), ratio(rate[k, "leader"], s, "%.2fx"),
            ratio(rate[k, "client"], rate[k, "etcd"], "%.1fx"), ratio(rate[k, "client"], s, "%.2fx"),
            ratio(s, rate[k, "etcd"], "%.1fx") }
    }' "$summary"
