#!/bin/sh
# Builds the release binaries and installs multirun and runone side by side in PREFIX/bin
# (default ~/.local/bin): multirun finds its default runner, runone, in its own folder.
# Both are static executables, so nothing else needs to be installed.
#
#   contrib/install.sh [PREFIX]
set -eu
prefix=${1:-$HOME/.local}
# A relative PREFIX is relative to where the script was called from, not to the checkout.
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
cd "$(dirname "$0")/.."
swift build -c release
mkdir -p "$prefix/bin"
for binary in multirun runone; do
    # A new file renamed over the old one: a running scheduler keeps its own binary.
    cp .build/release/$binary "$prefix/bin/.$binary.new.$$"
    chmod 755 "$prefix/bin/.$binary.new.$$"
    mv -f "$prefix/bin/.$binary.new.$$" "$prefix/bin/$binary"
done
echo "Installed multirun and runone in $prefix/bin"
