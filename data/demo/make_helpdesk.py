#!/usr/bin/env python3
"""Writes data/demo/helpdesk.json, the demo help desk `make run` seeds the Zendesk simulator with.

    python3 data/demo/make_helpdesk.py        # from the repository root; rewrites the file

Reproducible: a fixed seed, the standard library only, and the same output on every run.

- Tickets: 200 queries drawn (seed 2025) from BANKING77's test split (data/banking77/test.csv,
  PolyAI, CC-BY-4.0). The description is the query, unchanged (typos included). The subject is
  derived from the query alone: its first clause (up to the first . ? ! , or ;), at most eight
  words, with "..." when cut. No subject carries information the query does not.
- Ids from 9000000001 (beyond 32 bits, as real Zendesk ids are), status `new`, one requester
  e-mail out of twenty, created a few minutes apart on 2 June 2025.
- Groups: one per queue of models/banking77-routing.yml under the names config/demo.yml maps them
  to, plus `Inbox` (where new tickets land) and `Unclassified` (the fallback), with fixed ids so
  config/demo.yml can name the Inbox by id. About a third of the tickets sit in Inbox, the rest in
  no group, and eight were already routed by hand into the group their BANKING77 intent belongs to
  (the demo leaves those alone).

The file is one JSON object (`groups`, then `tickets`, one ticket per line), because the
simulator's JSONL form holds tickets only.
"""

import csv
import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "data" / "banking77" / "test.csv"
ROUTING = ROOT / "models" / "banking77-routing.yml"
OUT = ROOT / "data" / "demo" / "helpdesk.json"

SEED = 2025
TICKETS = 200
HAND_ROUTED = 8
FIRST_ID = 9_000_000_001

# Queue label (models/banking77-routing.yml) -> Zendesk group name (config/demo.yml's map).
QUEUE_GROUPS = {
    "cards": "Cards",
    "card_payments": "Card payments",
    "disputes": "Disputes",
    "transfers": "Transfers",
    "top_ups": "Top-ups",
    "cash_atm": "Cash and ATM",
    "exchange": "Exchange",
    "account_security": "Account security",
}
# Fixed ids, Zendesk-sized. config/demo.yml lists the Inbox id in inbox_queues.
GROUPS = [
    {"id": 360000000001, "name": "Inbox"},
    {"id": 360000000002, "name": "Unclassified"},
] + [
    {"id": 360000000011 + i, "name": name}
    for i, name in enumerate(QUEUE_GROUPS.values())
]


def routing():
    """intent -> queue, read from the routing file's `  intent: {queue: q, priority: p}` lines."""
    out = {}
    for line in ROUTING.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s{2}(\S+?):\s*\{queue:\s*(\w+),", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def subject(query):
    clause = re.split(r"[.?!,;]", query.strip(), maxsplit=1)[0].strip() or query.strip()
    words = clause.split()
    cut = len(words) > 8
    text = " ".join(words[:8]).rstrip(" -:")
    text = text[:1].upper() + text[1:]
    if cut or len(clause) < len(query.strip().rstrip(".?! ")):
        text += "..."
    return text


def main():
    rng = random.Random(SEED)
    with SOURCE.open(newline="", encoding="utf-8") as f:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(f)]
    picked = rng.sample(rows, TICKETS)
    queue_of = routing()
    hand_routed = set(rng.sample(range(TICKETS), HAND_ROUTED))
    start = datetime(2025, 6, 2, 8, 0, tzinfo=timezone.utc)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    created = start
    tickets = []
    for i, (query, intent) in enumerate(picked):
        created += timedelta(minutes=rng.randint(1, 6), seconds=rng.randint(0, 59))
        updated = created
        if i in hand_routed:
            group = QUEUE_GROUPS[queue_of[intent]]
            updated = created + timedelta(minutes=rng.randint(2, 30))
        elif rng.random() < 0.35:
            group = "Inbox"
        else:
            group = None
        ticket = {
            "id": FIRST_ID + i,
            "subject": subject(query),
            "description": query,
            "status": "new",
            "requester": f"customer{rng.randint(1, 20):02d}@example.com",
            "via": rng.choice(["email", "web", "web", "mobile"]),
            "created_at": stamp(created),
            "updated_at": stamp(updated),
        }
        if group:
            ticket["group"] = group
        tickets.append(ticket)

    lines = ["{", '"groups": ' + json.dumps(GROUPS) + ",", '"tickets": [']
    lines += [
        json.dumps(t, ensure_ascii=False) + ("," if n + 1 < len(tickets) else "")
        for n, t in enumerate(tickets)
    ]
    lines += ["]", "}"]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(tickets)} tickets, {len(GROUPS)} groups")


if __name__ == "__main__":
    main()
