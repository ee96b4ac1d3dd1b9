#!/usr/bin/env bash
# Writes a standalone adapter crate for otai, outside this workspace:
#   bash scripts/plugin-template.sh NAME DEST      (or: make plugin-template NAME=acme DEST=/some/dir)
# NAME is a lower-case identifier (`acme`): the plugin is `otai_NAME`, its library `libotai_NAME.so`,
# its service `<Name>TicketSystemService`. DEST must not exist yet or be empty. The crate depends on
# this checkout's plugin-api and SDK by path (its Cargo.toml shows the registry form too) and
# starts from this checkout's Cargo.lock, so it builds with the versions otai was tested with.
set -euo pipefail

name="${1:-}"
dest="${2:-}"
if [[ -z "$name" || -z "$dest" ]]; then
    echo "usage: $0 NAME DEST   (e.g. $0 acme /tmp/otai-acme)" >&2
    exit 2
fi
if [[ ! "$name" =~ ^[a-z][a-z0-9_]{0,30}$ ]]; then
    echo "$0: NAME must be a lower-case identifier (letters, digits, _; starting with a letter), not \"$name\"" >&2
    exit 2
fi
if [[ -e "$dest" && -n "$(ls -A "$dest" 2>/dev/null)" ]]; then
    echo "$0: $dest exists and is not empty; choose a new directory" >&2
    exit 1
fi

checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="$checkout/scripts/plugin-template"
# `acme` -> `Acme`, `big_desk` -> `BigDesk`: the service's type-like name.
camel="$(echo "$name" | sed -E 's/(^|_)([a-z0-9])/\U\2/g')"

mkdir -p "$dest/src" "$dest/tests"
for file in Cargo.toml README.md src/lib.rs tests/conformance.rs; do
    sed -e "s|@NAME@|$name|g" -e "s|@CAMEL@|$camel|g" -e "s|@CHECKOUT@|$checkout|g" \
        "$template/$file.in" > "$dest/$file"
done
cp "$checkout/Cargo.lock" "$dest/Cargo.lock"
echo "Wrote the adapter crate otai-$name to $dest: cargo build --release there yields target/release/libotai_$name.so"
