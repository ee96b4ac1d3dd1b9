#!/usr/bin/env bash
# The built-in demo (`make run`): starts the Zendesk simulator (otai-zendesk-sim) on 127.0.0.1
# seeded with the demo help desk (data/demo/helpdesk.json: 200 BANKING77 queries as tickets, plus
# groups that match the default model), runs one pass of the real pipeline through the real
# plugins/libotai_zendesk.so with config/demo.yml, prints what was written as a table, and always
# stops the simulator. With SYSTEM=zammad (`make demo-zammad`) the same 200 tickets go through the
# Zammad simulator (otai-zammad-sim), plugins/libotai_zammad.so and config/demo-zammad.yml; with
# SYSTEM=otobo (`make demo-otobo`) through otai-otobo-sim, plugins/libotai_otobo_znuny.so and
# config/demo-otobo.yml; with SYSTEM=freshdesk (`make demo-freshdesk`) through otai-freshdesk-sim
# (on the Enterprise plan's rate limits), plugins/libotai_freshdesk.so and config/demo-freshdesk.yml.
#
# Expects what `make setup` builds (target/release/otai, plugins/, models/banking77) and the
# simulator; `make run` / `make demo-zammad` build them first. Run from the repository root.
# OTAI, SIM, PLUGINS_DIR and SEED override the paths; OTAI_DEMO_LATENCY_MS adds latency per request.
set -euo pipefail

SYSTEM="${SYSTEM:-zendesk}"
case "$SYSTEM" in
    zendesk)
        NAME="Zendesk"; CONFIG="config/demo.yml"; SIM_FLAGS=(--job-delay-ms 200) ;;
    zammad)
        NAME="Zammad"; CONFIG="config/demo-zammad.yml"; SIM_FLAGS=() ;;
    otobo)
        NAME="OTOBO"; CONFIG="config/demo-otobo.yml"; SIM_FLAGS=() ;;
    freshdesk)
        NAME="Freshdesk"; CONFIG="config/demo-freshdesk.yml"; SIM_FLAGS=(--plan enterprise) ;;
    *)
        echo "demo: SYSTEM must be zendesk, zammad, otobo or freshdesk, not \"$SYSTEM\"" >&2; exit 2 ;;
esac
OTAI="${OTAI:-target/release/otai}"
SIM="${SIM:-target/release/otai-$SYSTEM-sim}"
PLUGINS_DIR="${PLUGINS_DIR:-plugins}"
SEED="${SEED:-data/demo/helpdesk.json}"
case "$SYSTEM" in
    otobo) PLUGIN="$PLUGINS_DIR/libotai_otobo_znuny.so" ;;
    *) PLUGIN="$PLUGINS_DIR/libotai_$SYSTEM.so" ;;
esac

for f in "$OTAI" "$SIM" "$PLUGIN" "$SEED" "$CONFIG" models/banking77; do
    if [ ! -e "$f" ]; then
        echo "demo: $f is missing; run \`make run\` (it builds everything) or \`make setup\` first" >&2
        exit 1
    fi
done

workdir="$(mktemp -d "${TMPDIR:-/tmp}/otai-demo.XXXXXX")"
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The simulator's first stdout line is its base URL; its log goes to a file shown on failure.
RUST_LOG="${RUST_LOG:-warn}" "$SIM" --seed "$SEED" --port 0 \
    --latency-ms "${OTAI_DEMO_LATENCY_MS:-0}" "${SIM_FLAGS[@]}" \
    >"$workdir/sim.out" 2>"$workdir/sim.log" &
sim_pid=$!
base_url=""
for _ in $(seq 100); do
    if [ "$(wc -l <"$workdir/sim.out")" -ge 1 ]; then
        base_url="$(head -n 1 "$workdir/sim.out")"
        break
    fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if [ -z "$base_url" ]; then
    echo "demo: the simulator did not print its address within 10 s; its log:" >&2
    cat "$workdir/sim.log" >&2
    exit 1
fi

tickets=$(grep -c '"description"' "$SEED" || true)
echo "$NAME simulator at $base_url with the demo help desk ($tickets tickets from $SEED)."
echo "otai reads the new tickets through $PLUGIN, classifies them with"
echo "models/banking77 and writes queue, priority, an intent tag and an internal note back:"
echo

export OTAI_DEMO_ZENDESK_URL="$base_url"
export OTAI_DEMO_ZENDESK_EMAIL="agent@example.com"
export OTAI_DEMO_ZENDESK_TOKEN="sim-token"
export OTAI_DEMO_ZAMMAD_URL="$base_url"
export OTAI_DEMO_ZAMMAD_TOKEN="sim-token"
export OTAI_DEMO_OTOBO_URL="$base_url"
export OTAI_DEMO_FRESHDESK_URL="$base_url"
status=0
"$OTAI" --config "$CONFIG" --plugins-dir "$PLUGINS_DIR" --log-level "${OTAI_DEMO_LOG_LEVEL:-warn}" \
    run --once --table || status=$?

if [ "$status" -eq 0 ]; then
    echo
    echo "Try it yourself: the same simulator is a sandbox (see README, \"Sandbox\")."
else
    echo "demo: otai run failed (exit $status); the simulator's log:" >&2
    tail -n 20 "$workdir/sim.log" >&2
fi
exit "$status"
