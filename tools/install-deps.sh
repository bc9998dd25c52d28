#!/bin/sh
# install-deps.sh - installs what stowaway needs to build and to run its
# test suite, from Debian 12's packages. Run as root. Idempotent.
set -eu
export DEBIAN_FRONTEND=noninteractive
# Build: compiler, cmake, pkg-config and the libraries (see README).
BUILD="build-essential cmake pkg-config libarchive-dev libpcre2-dev
  libzstd-dev liblzma-dev libsqlite3-dev libjansson-dev libyaml-dev libvectorscan-dev
  libisal-dev libssl-dev libcurl4-openssl-dev libgit2-dev zlib1g-dev check"
# Tests: the Check framework, real image tools (umoci, skopeo), the CLIs the
# fixture generator and tests use (gzip, zstd, sqlite3, python3, openssl),
# a real registry server (docker-registry) and htpasswd for its basic auth;
# headless Chromium renders the HTML report, tmux gives the progress bar a
# real terminal, git, man and python3-yaml check the CI docs and the hook;
# clang-format checks the C formatting (tools/check-format.sh) and clang
# builds the libFuzzer targets (STW_FUZZ).
TEST="umoci skopeo zstd gzip sqlite3 python3 python3-jsonschema
  openssl openssh-client docker-registry apache2-utils chromium tmux git
  man-db python3-yaml zip libcommons-lang3-java libguava-java
  libcommons-io-java libnetty-java python3-pip-whl clang clang-format"
pkgs="$BUILD"
[ "${1:-}" = "--test" ] && pkgs="$BUILD $TEST"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
