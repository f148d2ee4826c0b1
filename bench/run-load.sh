#!/usr/bin/env bash
# Builds the server and the load generator in Release and runs the load scenarios reported in
# docs/performance.md, each against a freshly spawned server on a free loopback port with a
# temporary data directory. Usage: bench/run-load.sh [durability] [seconds]
#   durability: fsync (the server's default), interval or memory; seconds: measured time per run (10).
set -euo pipefail
cd "$(dirname "$0")/.."

durability="${1:-fsync}"
seconds="${2:-10}"
server=src/Leasehold.Server/bin/Release/net10.0/Leasehold.Server.dll

dotnet build -c Release -v quiet -nologo src/Leasehold.Server
dotnet build -c Release -v quiet -nologo bench/Leasehold.LoadGen

run() {
    echo "== $* (durability $durability; load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    dotnet run -c Release --no-build --project bench/Leasehold.LoadGen -- \
        --spawn --server-dll "$server" --server-arg "--Leasehold:Durability=$durability" \
        --duration "$seconds" --warmup 2 "$@"
    echo
}

run --scenario uncontended --clients 1
run --scenario uncontended --clients 16
run --scenario uncontended --clients 64
run --scenario contended --clients 64
