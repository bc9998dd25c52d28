#!/usr/bin/env bash
# test_readonly_db.sh - readers never write the database: `report`, `report
# --by-layer` and `db stats` leave the file byte for byte as it was (no
# schema written into an empty file, no switch to WAL, no migration of an
# older schema), a missing or empty database is one error line and exit 2,
# and a user who may only read the file (0444 in a 0555 directory, run as
# nobody; a read-only mount) reads it - whether the last writer closed
# cleanly or was killed and left its -wal and -shm behind.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"
DB="$WORKDIR/d.db"
py() { python3 - "$@"; }

run "$WORKDIR/s.out" "$WORKDIR/s.err" scan --db "$DB" "$FX/base.docker.tar"
[ "$RC" -le 1 ] || { cat "$WORKDIR/s.err" >&2; fail "scan exit $RC"; }

# readers_leave DB CONTEXT: report, report --by-layer and db stats succeed
# and leave DB's directory exactly as it was (same files, same bytes).
readers_leave() {
    local db=$1 ctx=$2 d
    d=$(dirname "$db")
    (cd "$d" && sha256sum ./* | sort) >"$WORKDIR/before.sum"
    run "$WORKDIR/r.json" "$WORKDIR/r.err" report --db "$db" --format json
    expect_rc 0 "$ctx: report"
    cj has "$WORKDIR/r.json" path=app/id_rsa || fail "$ctx: report content"
    run "$WORKDIR/l.out" "$WORKDIR/l.err" report --db "$db" --by-layer
    expect_rc 0 "$ctx: report --by-layer"
    run "$WORKDIR/st.out" "$WORKDIR/st.err" db stats --db "$db"
    expect_rc 0 "$ctx: db stats"
    grep -q -x "images:    1 (1 distinct ref)" "$WORKDIR/st.out" ||
        fail "$ctx: db stats content"
    (cd "$d" && sha256sum ./* | sort) >"$WORKDIR/after.sum"
    diff -u "$WORKDIR/before.sum" "$WORKDIR/after.sum" >&2 ||
        fail "$ctx: a reader changed the database's directory"
}

note "a database at rest: readers change nothing"
mkdir -p "$WORKDIR/rest"
cp "$DB" "$WORKDIR/rest/d.db"
readers_leave "$WORKDIR/rest/d.db" "at rest"

note "a rollback-journal database stays one"
mkdir -p "$WORKDIR/del"
cp "$DB" "$WORKDIR/del/d.db"
py "$WORKDIR/del/d.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode = DELETE")
c.close()
PY
readers_leave "$WORKDIR/del/d.db" "rollback journal"

note "a missing or empty database: one line, exit 2, nothing created"
for sub in "report" "report --by-layer" "db stats"; do
    # shellcheck disable=SC2086
    run "$WORKDIR/m.out" "$WORKDIR/m.err" $sub --db "$WORKDIR/missing.db"
    expect_rc 2 "$sub on a missing file"
    one_line_naming "$WORKDIR/m.err" missing.db "$sub on a missing file"
    [ ! -e "$WORKDIR/missing.db" ] || fail "$sub created a database"
    : >"$WORKDIR/empty.db"
    # shellcheck disable=SC2086
    run "$WORKDIR/e.out" "$WORKDIR/e.err" $sub --db "$WORKDIR/empty.db"
    expect_rc 2 "$sub on an empty file"
    one_line_naming "$WORKDIR/e.err" empty.db "$sub on an empty file"
    [ ! -s "$WORKDIR/empty.db" ] || fail "$sub wrote into an empty file"
    [ -z "$(ls "$WORKDIR"/empty.db-* 2>/dev/null)" ] ||
        fail "$sub left files beside an empty database"
done

note "an older schema is not migrated by a reader"
mkdir -p "$WORKDIR/old"
py "$WORKDIR/old/d.db" "$SRCDIR/db/001_init.sql" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript(open(sys.argv[2]).read())
c.execute("PRAGMA user_version = 1")
c.commit()
c.close()
PY
cp "$WORKDIR/old/d.db" "$WORKDIR/old.copy"
for sub in "report" "db stats"; do
    # shellcheck disable=SC2086
    run "$WORKDIR/o.out" "$WORKDIR/o.err" $sub --db "$WORKDIR/old/d.db"
    expect_rc 2 "$sub on an older schema"
    one_line_naming "$WORKDIR/o.err" d.db "$sub on an older schema"
    grep -q "older" "$WORKDIR/o.err" && grep -q "scan" "$WORKDIR/o.err" ||
        { cat "$WORKDIR/o.err" >&2; fail "$sub: older schema not explained"; }
    cmp -s "$WORKDIR/old/d.db" "$WORKDIR/old.copy" ||
        fail "$sub changed an older database"
done
run "$WORKDIR/o.out" "$WORKDIR/o.err" scan --db "$WORKDIR/old/d.db" \
    "$FX/base.docker.tar"
[ "$RC" -le 1 ] || { cat "$WORKDIR/o.err" >&2; fail "scan of an old db"; }
run "$WORKDIR/o.out" "$WORKDIR/o.err" db stats --db "$WORKDIR/old/d.db"
expect_rc 0 "db stats once a scan upgraded it"

# A killed writer: its committed transaction is still in the -wal, and the
# -wal and -shm stay beside the file.
make_killed() {
    cp "$DB" "$1"
    py "$1" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA journal_mode = WAL")
c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("UPDATE images SET ref = 'fixture/base:killed'")
os._exit(0)
PY
    [ -e "$1-wal" ] && [ -e "$1-shm" ] || fail "premise: -wal and -shm kept"
}

# as_reader DIR CMD...: runs CMD in DIR, with DIR mode 0555 and its files
# 0444, as the user nobody when we are root; stdout to $WORKDIR/ro.out,
# stderr to $WORKDIR/ro.err (opened before privileges are dropped).
as_reader() {
    local d=$1
    shift
    chmod 0444 "$d"/*
    chmod 0555 "$d"
    set +e
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$d" && setpriv --reuid=65534 --regid=65534 --clear-groups "$@")
    else
        (cd "$d" && "$@")
    fi >"$WORKDIR/ro.out" 2>"$WORKDIR/ro.err"
    RC=$?
    set -e
    chmod 0755 "$d"
    chmod 0644 "$d"/*
}

# Each of the two parts below that a machine may not allow is skipped on
# its own; the other still runs.
note "read-only file in a read-only directory, as another user"
if [ "$(id -u)" -eq 0 ] && ! setpriv --reuid=65534 --regid=65534 \
    --clear-groups true 2>/dev/null; then
    skip_part "cannot drop privileges with setpriv: the reader as another user"
else
    for state in rest killed; do
        d="$WORKDIR/ro-$state"
        mkdir -p "$d"
        if [ "$state" = rest ]; then cp "$DB" "$d/d.db"; else make_killed "$d/d.db"; fi
        want=fixture/base:1
        [ "$state" = rest ] || want=fixture/base:killed
        (cd "$d" && sha256sum ./* | sort) >"$WORKDIR/before.sum"
        as_reader "$d" "$STOWAWAY" report --db "$d/d.db" --format json
        [ "$RC" -eq 0 ] || { cat "$WORKDIR/ro.err" >&2; fail "$state: report as a reader: exit $RC"; }
        cj eval "$WORKDIR/ro.out" "[i['ref'] for i in I] == ['$want']" ||
            fail "$state: report as a reader: content"
        as_reader "$d" "$STOWAWAY" db stats --db "$d/d.db"
        [ "$RC" -eq 0 ] || { cat "$WORKDIR/ro.err" >&2; fail "$state: db stats as a reader: exit $RC"; }
        grep -q -x "images:    1 (1 distinct ref)" "$WORKDIR/ro.out" ||
            fail "$state: db stats as a reader: content"
        (cd "$d" && sha256sum ./* | sort) >"$WORKDIR/after.sum"
        diff -u "$WORKDIR/before.sum" "$WORKDIR/after.sum" >&2 ||
            fail "$state: a reader changed the directory"
    done
fi

note "a read-only mount, also of a database left in WAL mode"
if ! unshare -m true 2>/dev/null; then
    skip_part "no mount namespace: the read-only mount"
else
    for state in rest wal killed; do
        d="$WORKDIR/mnt-$state"
        mkdir -p "$d"
        case $state in
        rest) cp "$DB" "$d/d.db" ;;
        wal)
            cp "$DB" "$d/d.db"
            py "$d/d.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode = WAL")
c.close()
PY
            ;;
        killed) make_killed "$d/d.db" ;;
        esac
        set +e
        unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
            shift && "$@"' sh "$d" "$STOWAWAY" report --db "$d/d.db" \
            --format json >"$WORKDIR/mnt.json" 2>"$WORKDIR/mnt.err"
        RC=$?
        set -e
        [ "$RC" -eq 0 ] || { cat "$WORKDIR/mnt.err" >&2; fail "read-only mount ($state): exit $RC"; }
        cj has "$WORKDIR/mnt.json" path=app/id_rsa || fail "read-only mount ($state): content"
    done
fi
echo "PASS $TEST_NAME"
