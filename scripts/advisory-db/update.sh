#!/usr/bin/env bash
# Refreshes the RustSec advisory snapshot that `make deny` checks against offline (see
# scripts/deny.sh). Needs GitHub; run it where that is reachable and commit both files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --depth 1 https://github.com/rustsec/advisory-db "$work/db"
commit=$(git -C "$work/db" log -1 --format=%H)
date=$(git -C "$work/db" log -1 --format=%cI)
git -C "$work/db" archive --format=tar HEAD crates rust LICENSE.txt | gzip -9n > "$here/snapshot.tar.gz"
sha=$(sha256sum "$here/snapshot.tar.gz" | cut -d' ' -f1)
printf 'commit=%s\ndate=%s\nsource=https://github.com/rustsec/advisory-db\nsha256=%s\n' \
    "$commit" "$date" "$sha" > "$here/SNAPSHOT"
echo "snapshot: $commit ($date), sha256 $sha"
