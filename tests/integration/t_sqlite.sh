#!/usr/bin/env bash
# Two concurrent SQLite writers on a region, in WAL and rollback-journal mode.
# WAL maps the -shm file shared between the processes; both modes lock with
# fcntl byte-range locks.
. "$(dirname "$0")/lib.sh"

rfs_mount
W=$RFS_WORK
ROWS=300

WRITER='
import os, sqlite3, sys, time
db, who, rows, W = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = sqlite3.connect(db, timeout=60, isolation_level=None)
c.execute("PRAGMA busy_timeout = 60000")
open(f"{W}/ready-{who}", "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(f"{W}/go"):
    if time.monotonic() > deadline:
        sys.exit("writer %s: no go signal" % who)
    time.sleep(0.005)
for i in range(rows):
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t (who, n, pad) VALUES (?, ?, randomblob(200))", (who, i))
    c.execute("COMMIT")
c.close()
'

both_ready() { [[ -e "$W/ready-A" && -e "$W/ready-B" ]]; }

run_mode() {
	local mode=$1 db=$MNT/$1.db p1 p2 out
	rm -f "$W"/ready-* "$W/go"
	python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
got = c.execute('PRAGMA journal_mode = $mode').fetchone()[0]
assert got.lower() == '$mode', got
c.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, n INTEGER, pad BLOB)')
c.commit()
c.close()" "$db" || fail "$mode: creating the database failed"
	python3 -c "$WRITER" "$db" A "$ROWS" "$W" &
	p1=$!
	python3 -c "$WRITER" "$db" B "$ROWS" "$W" &
	p2=$!
	wait_until 30 both_ready ||
		fail "$mode: writers did not start"
	: >"$W/go"
	wait "$p1" || fail "$mode: writer A failed"
	wait "$p2" || fail "$mode: writer B failed"
	out=$(python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute('SELECT count(*) FROM t').fetchone()[0])
print(c.execute(\"SELECT count(*) FROM t WHERE who = 'A'\").fetchone()[0])
print(c.execute('SELECT count(DISTINCT who || n) FROM t').fetchone()[0])
print(c.execute('PRAGMA integrity_check').fetchone()[0])
print(c.execute('PRAGMA journal_mode').fetchone()[0])" "$db") ||
		fail "$mode: reading the result failed"
	assert_eq "$((2 * ROWS)) $ROWS $((2 * ROWS)) ok $mode" "$(xargs <<<"$out")" \
		"$mode: total, rows of A, distinct rows, integrity_check, journal_mode"
	if command -v sqlite3 >/dev/null; then
		assert_eq "ok" "$(sqlite3 "$db" 'PRAGMA integrity_check')" "$mode: sqlite3 CLI integrity_check"
		assert_eq "$((2 * ROWS))" "$(sqlite3 "$db" 'SELECT count(*) FROM t')" "$mode: sqlite3 CLI count"
	fi
}

run_mode wal
ok "WAL: two concurrent writers, $((2 * ROWS)) rows, integrity_check ok"
run_mode delete
ok "rollback journal: two concurrent writers, $((2 * ROWS)) rows, integrity_check ok"
