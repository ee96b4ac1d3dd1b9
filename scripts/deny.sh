#!/usr/bin/env bash
# `make deny`: the dependency policy in deny.toml, all four checks (advisories, bans, licences,
# sources).
#
# The advisories check needs the RustSec database, a git repository on GitHub. CI machines reach
# only the package registries, so by default the check runs offline against the snapshot kept in
# scripts/advisory-db/ (the upstream `crates/` and `rust/` folders at the commit SNAPSHOT names,
# CC0-1.0). The snapshot is unpacked into a git repository where cargo-deny looks for its
# database, committed with the upstream commit's date so the age cargo-deny sees is the real one.
# Where GitHub is reachable, `OTAI_DENY_ONLINE=1 make deny` fetches the live database instead, and
# scripts/advisory-db/update.sh refreshes the snapshot.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
snapshot_dir=scripts/advisory-db
# deny.toml's `db-path`; cargo-deny 0.20 keeps the default database in this sub-folder (a name
# derived from the database URL). If a newer cargo-deny names it differently the offline check
# fails with "failed to get HEAD timestamp" and this name needs updating with the version.
db_dir=target/advisory-db/advisory-db-3157b0e258782691

if [ "${OTAI_DENY_ONLINE:-0}" = 1 ]; then
    exec $CARGO deny check
fi

value() { sed -n "s/^$1=//p" "$snapshot_dir/SNAPSHOT"; }
commit=$(value commit)
date=$(value date)
want_sha=$(value sha256)
have_sha=$(sha256sum "$snapshot_dir/snapshot.tar.gz" | cut -d' ' -f1)
if [ "$have_sha" != "$want_sha" ]; then
    echo "deny: $snapshot_dir/snapshot.tar.gz has sha256 $have_sha, SNAPSHOT says $want_sha" >&2
    exit 1
fi

if [ "$(cat "$db_dir/.otai-snapshot" 2>/dev/null || true)" != "$commit" ]; then
    rm -rf "$db_dir"
    mkdir -p "$db_dir"
    tar -xzf "$snapshot_dir/snapshot.tar.gz" -C "$db_dir"
    (
        cd "$db_dir"
        git init -q
        git add -A
        GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
            git -c user.name=otai -c user.email=otai@localhost -c commit.gpgsign=false \
            commit -q -m "rustsec/advisory-db $commit"
        echo "$commit" > .otai-snapshot
    )
fi

age_days=$(( ( $(date +%s) - $(date -d "$date" +%s) ) / 86400 ))
advisories=$(find "$db_dir/crates" "$db_dir/rust" -name 'RUSTSEC-*.md' | wc -l)
echo "deny: advisories from the RustSec snapshot of ${date%%T*} ($age_days days old, $advisories advisories, commit ${commit:0:12})"
if [ "$age_days" -gt 180 ]; then
    echo "deny: the snapshot is over 180 days old; refresh it with scripts/advisory-db/update.sh where GitHub is reachable" >&2
fi
# Offline, cargo-deny reads `cargo metadata` for every target platform, which needs every crate
# in Cargo.lock on disk, also those only other platforms use (a build fetches only this one's).
$CARGO fetch --locked --quiet
exec $CARGO deny --offline check
