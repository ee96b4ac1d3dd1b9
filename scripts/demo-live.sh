#!/usr/bin/env bash
# The live demo (`make demo-live`): `otai serve` (config/demo-live.yml) over the Zendesk simulator,
# which holds the demo help desk's groups and no tickets. For a minute a customer writes in every
# 5 seconds; the simulator sends the signed webhook a Zendesk trigger would send, otai routes the
# ticket, and this script prints how long after the webhook each one was written, where it went,
# and the status page's address. Both processes are always stopped at the end.
#
# Expects what `make setup` and `make sim` build; `make demo-live` builds them first. Run from the
# repository root. OTAI, SIM, PLUGINS_DIR override the paths; TICKETS and EVERY_SECS the pace.
set -euo pipefail

OTAI="${OTAI:-target/release/otai}"
SIM="${SIM:-target/release/otai-zendesk-sim}"
PLUGINS_DIR="${PLUGINS_DIR:-plugins}"
TICKETS="${TICKETS:-12}"
EVERY_SECS="${EVERY_SECS:-5}"
HELPDESK=data/demo/helpdesk.json
CONFIG=config/demo-live.yml

for f in "$OTAI" "$SIM" "$PLUGINS_DIR/libotai_zendesk.so" "$HELPDESK" "$CONFIG" models/banking77; do
    if [ ! -e "$f" ]; then
        echo "demo-live: $f is missing; run \`make demo-live\` (it builds everything) or \`make setup sim\` first" >&2
        exit 1
    fi
done

workdir="$(mktemp -d "${TMPDIR:-/tmp}/otai-demo-live.XXXXXX")"
sim_pid=""
otai_pid=""
stop() {
    local pid="$1"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    stop "$otai_pid"
    stop "$sim_pid"
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port="$(free_port)"
secret="demo-live-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
export OTAI_DEMO_LISTEN="127.0.0.1:$port" OTAI_DEMO_WEBHOOK_SECRET="$secret"
export OTAI_DEMO_INBOX="$workdir/inbox.jsonl"

# The demo help desk's groups, without its tickets: customers write in during the demo.
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["tickets"] = []; json.dump(d, open(sys.argv[2], "w"))' \
    "$HELPDESK" "$workdir/groups.json"
RUST_LOG="${RUST_LOG:-warn}" "$SIM" --seed "$workdir/groups.json" --port 0 --job-delay-ms 200 \
    --webhook-url "http://127.0.0.1:$port/webhooks/zendesk" --webhook-secret "$secret" \
    >"$workdir/sim.out" 2>"$workdir/sim.log" &
sim_pid=$!
base_url=""
for _ in $(seq 100); do
    if [ "$(wc -l <"$workdir/sim.out")" -ge 1 ]; then
        base_url="$(head -n 1 "$workdir/sim.out")"
        break
    fi
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$base_url" ]; then
    echo "demo-live: the simulator did not start; its log:" >&2
    cat "$workdir/sim.log" >&2
    exit 1
fi
export OTAI_DEMO_ZENDESK_URL="$base_url"

RUST_LOG="${RUST_LOG:-info}" "$OTAI" --config "$CONFIG" --plugins-dir "$PLUGINS_DIR" serve \
    >"$workdir/otai.out" 2>"$workdir/otai.log" &
otai_pid=$!
ready=""
for _ in $(seq 600); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
        ready=yes
        break
    fi
    kill -0 "$otai_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "demo-live: otai serve did not become ready; its log:" >&2
    cat "$workdir/otai.log" >&2
    exit 1
fi
echo "otai serve is up: status page http://127.0.0.1:$port/ , metrics http://127.0.0.1:$port/metrics"
echo "A customer writes in every ${EVERY_SECS} s ($TICKETS tickets); each is routed by its webhook (polling is an hour away)."
echo

# One ticket at a time: add it, wait for otai's tag, print where it went.
python3 - "$HELPDESK" "$base_url" "$TICKETS" "$EVERY_SECS" <<'PY'
import base64, json, sys, time, urllib.request

helpdesk, base, count, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
texts = json.load(open(helpdesk))["tickets"]
groups = {g["id"]: g["name"] for g in json.load(open(helpdesk))["groups"]}
auth = "Basic " + base64.b64encode(b"agent@example.com/token:sim-token").decode()

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Authorization": auth})
    with urllib.request.urlopen(req, timeout=10) as answer:
        return json.load(answer)

took = []
for n in range(count):
    started = time.time()
    source = texts[n * 7 % len(texts)]
    ticket_id = 7000 + n
    call("POST", "/__sim/tickets", {"tickets": [{"id": ticket_id, "subject": source["subject"],
                                                  "description": source["description"], "status": "new"}]})
    routed = None
    while time.time() - started < 30:
        ticket = call("GET", f"/__sim/tickets/{ticket_id}")["ticket"]
        if "otai_processed" in ticket["tags"]:
            routed = ticket
            break
        time.sleep(0.05)
    sent = [d for d in call("GET", "/__sim/webhook/deliveries")["deliveries"] if d["ticket_id"] == ticket_id]
    if routed is None:
        print(f"ticket {ticket_id} {source['subject']!r}: NOT routed within 30 s (webhook answered {sent[0]['status'] if sent else 'never sent'})")
        sys.exit(1)
    seconds = time.time() - sent[0]["sent_at_ms"] / 1000 if sent else float("nan")
    took.append(seconds)
    queue = groups.get(routed.get("group_id"), routed.get("group_id"))
    print(f"ticket {ticket_id} {source['subject'][:48]!r:52} -> {queue!s:16} priority {routed.get('priority')!s:7} written {seconds:4.1f} s after its webhook (answered {sent[0]['status']})")
    time.sleep(max(0.0, every - (time.time() - started)))
took.sort()
print()
print(f"{len(took)} tickets routed by webhook: median {took[len(took) // 2]:.1f} s, slowest {took[-1]:.1f} s after the delivery")
PY
echo
echo "metrics (excerpt):"
curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^otai_(tickets_written_total|webhook_deliveries_total|webhook_tickets_waiting)' || true
page="$(curl -sf "http://127.0.0.1:$port/")"
echo "status page: $(grep -o 'data-ticket="[0-9]*"' <<<"$page" | wc -l) decisions listed at http://127.0.0.1:$port/ (stopping now)"
