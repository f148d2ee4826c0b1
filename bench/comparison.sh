# Shared by the comparison runners (run-cluster.sh, run-redis.sh); sourced, not run.
# ensure_package PROGRAM PACKAGE: installs Debian's PACKAGE when PROGRAM is not on PATH.
ensure_package() {
    if ! command -v "$1" >/dev/null; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update
        $sudo apt-get install -y "$2"
    fi
}

# run LABEL SCENARIO CLIENTS TARGET-ARGS...: one load-generator run of $seconds measured after $warmup of warmup (ttl $ttl); its
# SUMMARY line goes to the file $summary, labelled, for the runner's table.
run() {
    local label=$1 scenario=$2 clients=$3
    shift 3
    echo "== $label: $scenario, $clients clients (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    local out rc=0
    out=$(dotnet run -c Release --no-build --project bench/Leasehold.LoadGen -- --scenario "$scenario" --clients "$clients" \
        --duration "$seconds" --warmup "$warmup" --ttl "$ttl" "$@" 2>&1) || rc=$?
    echo "$out"
    local line
    line=$(grep '^SUMMARY' <<<"$out" | tail -1 || true)
    if [ -n "$line" ]; then
        printf '%s\t%s\n' "$label" "$line" >>"$summary"
    else
        # did not run (e.g. the cluster is not in this build): say why in the table
        printf '%s\tSUMMARY\t-\t%s\t%s\t-\t-\t-\t-\tnot run (exit %s)\t-\n' "$label" "$scenario" "$clients" "$rc" >>"$summary"
    fi
    echo
}
