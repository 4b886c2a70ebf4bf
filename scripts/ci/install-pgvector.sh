#!/usr/bin/env bash
# pgvector for the server's 1:N index on PostgreSQL (issue 14), then `CREATE EXTENSION vector` in the
# database. Idempotent: does nothing but the CREATE EXTENSION IF NOT EXISTS when a recent enough
# pgvector is already installed for the PostgreSQL major version.
#
#   scripts/ci/install-pgvector.sh [pg-major-version] [database]      (as root; .ci/run calls it)
#
# 1. `vector.control` present for that version with default_version >= 0.7.0 (halfvec + HNSW): done.
# 2. Else the Debian package postgresql-<v>-pgvector, when apt has a recent enough one.
# 3. Else built from Debian's source package: when apt has no deb-src for pgvector, a deb-src entry
#    for the next Debian suite is added, its URIs / Signed-By taken from this machine's own
#    debian.sources (no host name is written here); then postgresql-server-dev-<v>, build-essential,
#    `apt-get source pgvector` in a temp dir, make && make install.
# The extension is created by the postgres superuser (pgvector is not a trusted extension: a real
# deployment's DBA runs `CREATE EXTENSION vector` once per database; the server uses it when present).
#
# Testing knobs: PGVECTOR_FORCE_BUILD=1 takes branch 3 even when installed; PGVECTOR_DESTDIR=/tmp/x
# installs into that staging dir (make install DESTDIR=...) and skips the CREATE EXTENSION;
# PGVECTOR_SOURCES_FILE overrides where the deb-src entry is written.
set -euo pipefail

MIN=0.7.0
pg_version="${1:-$(ls /etc/postgresql | sort -V | tail -n 1)}"
db="${2:-facelogin}"
pg_config="/usr/lib/postgresql/$pg_version/bin/pg_config"
control="/usr/share/postgresql/$pg_version/extension/vector.control"
[ -x "$pg_config" ] && control="$("$pg_config" --sharedir)/extension/vector.control"
export DEBIAN_FRONTEND=noninteractive

at_least() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$MIN" "$1" | sort -V | head -n 1)" = "$MIN" ]; }
# Empty (not an error: set -e) when the control file is absent, i.e. pgvector not installed.
control_version() { [ -f "$1" ] || return 0; sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$1"; }
upstream() { local v="${1#*:}"; echo "${v%%-*}"; }  # 1:0.8.0-1 -> 0.8.0

# The suite after this machine's (deb-src of the release that has a recent pgvector).
next_suite() {
  local codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  case "$codename" in
    buster) echo bullseye ;;
    bullseye) echo bookworm ;;
    bookworm) echo trixie ;;
    trixie) echo forky ;;
    *) echo sid ;;
  esac
}

# A deb822 deb-src stanza for `suite`, with the URIs and Signed-By of the first stanza of the
# machine's own debian.sources (or the first `deb` line of sources.list).
write_deb_src() {
  local suite="$1" out="$2" uris signed
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uris="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | head -n 1)"
    signed="$(sed -n 's/^Signed-By: *//p' /etc/apt/sources.list.d/debian.sources | head -n 1)"
  else
    uris="$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)"
    signed="$(sed -n 's/^deb \[.*signed-by=\([^] ]*\).*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)"
  fi
  [ -n "$uris" ] || { echo "install-pgvector: found no Debian mirror in /etc/apt to derive a deb-src entry from" >&2; return 1; }
  {
    echo "Types: deb-src"
    echo "URIs: $uris"
    echo "Suites: $suite"
    echo "Components: main"
    [ -n "$signed" ] && echo "Signed-By: $signed"
  } >"$out"
  echo "install-pgvector: wrote $out (deb-src $suite from $uris)"
}

# The newest pgvector source version apt knows (empty when none).
# (apt-cache showsrc fails when no deb-src has it: that is "none", not an error under pipefail.)
source_version() { { apt-cache showsrc pgvector 2>/dev/null || true; } | sed -n 's/^Version: *//p' | sort -V | tail -n 1; }

build_from_source() {
  local v
  v="$(source_version)"
  if ! at_least "$(upstream "$v")"; then
    write_deb_src "$(next_suite)" "${PGVECTOR_SOURCES_FILE:-/etc/apt/sources.list.d/face-login-pgvector-src.sources}"
    apt-get update -qq
    v="$(source_version)"
    at_least "$(upstream "$v")" || { echo "install-pgvector: no pgvector source >= $MIN in apt (found '${v:-none}')" >&2; return 1; }
  fi
  echo "== building pgvector $v from Debian's source package for PostgreSQL $pg_version"
  apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$pg_version" build-essential dpkg-dev >/dev/null
  local tmp
  tmp="$(mktemp -d /tmp/pgvector-build.XXXXXX)"
  (
    cd "$tmp"
    apt-get source -qq --only-source pgvector >/dev/null 2>&1 || apt-get source --only-source pgvector
    cd "$(find . -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
    make -s PG_CONFIG="$pg_config"
    make -s PG_CONFIG="$pg_config" ${PGVECTOR_DESTDIR:+DESTDIR="$PGVECTOR_DESTDIR"} install
  )
  rm -rf "$tmp"
}

server_version() { dpkg-query -W -f='${Version}' "postgresql-$pg_version" 2>/dev/null || true; }
server_before="$(server_version)"
installed="$(control_version "$control")"
if [ "${PGVECTOR_FORCE_BUILD:-0}" != 1 ] && at_least "$installed"; then
  echo "== pgvector $installed already installed for PostgreSQL $pg_version"
else
  echo "== installing pgvector >= $MIN for PostgreSQL $pg_version (installed: ${installed:-none})"
  if [ "${PGVECTOR_FORCE_BUILD:-0}" != 1 ]; then apt-get update -qq; fi
  candidate="$(apt-cache policy "postgresql-$pg_version-pgvector" 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
  if [ "${PGVECTOR_FORCE_BUILD:-0}" != 1 ] && [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && at_least "$(upstream "$candidate")"; then
    apt-get install -y -qq --no-install-recommends "postgresql-$pg_version-pgvector" >/dev/null
  else
    build_from_source
  fi
  [ -n "${PGVECTOR_DESTDIR:-}" ] || at_least "$(control_version "$control")" || { echo "install-pgvector: $control missing after install" >&2; exit 1; }
fi

# Installing postgresql-server-dev-<v> can pull a newer point release of postgresql-<v> itself
# (15.18 -> 15.20 on a fresh machine): the running server then fails to load its own new libraries
# (plpgsql.so: undefined symbol). Restart the cluster when the server package changed under it.
server_after="$(server_version)"
if [ -n "$server_before" ] && [ "$server_before" != "$server_after" ]; then
  echo "== postgresql-$pg_version moved from $server_before to $server_after during the install: restarting the cluster"
  pg_ctlcluster "$pg_version" main restart
  pg_isready -q -t 30 -h 127.0.0.1 -p 5432 || true
fi

if [ -n "${PGVECTOR_DESTDIR:-}" ]; then
  echo "== staged into $PGVECTOR_DESTDIR: $(find "$PGVECTOR_DESTDIR" -name vector.control -o -name 'vector.so' | tr '\n' ' ')"
  exit 0
fi
# The superuser creates it once in the database (and moves it to the installed version).
su postgres -c "psql -q -v ON_ERROR_STOP=1 -d '$db' -c 'CREATE EXTENSION IF NOT EXISTS vector' -c 'ALTER EXTENSION vector UPDATE'"
echo "== pgvector $(su postgres -c "psql -Atq -d '$db' -c \"SELECT extversion FROM pg_extension WHERE extname = 'vector'\"") in database $db"
