# The clients a restart must not disturb (t_restart's crash loop, t_upgrade's
# live upgrades): dd+cmp, Python mmap stores and a namespace model, two
# SQLite writers, fio --verify=crc32c on a region and on a view, ls -lR,
# flock, lifetime=close regions. Sourced after lib.sh and fio_lib.sh.
#
#   load_config FILE   write the config the clients expect (a view, a
#                      close directory); then mount with -c FILE
#   load_start         start them on $MNT; they run until load_finish
#   load_finish WHEN   stop them; fail if any saw an error (WHEN says what
#                      happened meanwhile); check SQLite and the last dd;
#                      LOAD_DONE then says what they did
#   snapshot           everything ls, stat, getfattr, getfacl and lsattr
#                      show of $MNT's tree, and its bytes
#   same_tree SNAP WHEN  fail, with the difference, unless the snapshot now is SNAP
#   tree_build         a tree on $MNT: directories, a 3 MiB region ($W/data)
#                      and its hard link, a symlink, a fifo, modes, owners,
#                      times, xattrs, a default ACL, chattr +i, renames
#   holder_start FLAG  a region opened, mapped and removed while held, by a
#                      process that uses it again once $W/FLAG exists
#   holder_finish FLAG WHAT  make $W/FLAG; fail unless the holder then
#                      worked on across WHAT
# Uses W (a work directory) and MNT.

snapshot() {
	(
		cd "$MNT" || exit 1
		find . -path ./.regionfs -prune -o \
			-printf '%p ino=%i mode=%m %u:%g size=%s nlink=%n m=%T@ c=%C@ type=%y -> %l\n' |
			sort
		find . -path ./.regionfs -prune -o -type f -print0 | sort -z | xargs -0 -r md5sum
		# What a tool cannot read shows as a difference, not as an exit.
		getfattr -R -d -m - --absolute-names . 2>&1 | sed '/^$/d' || true
		getfacl -R -p . 2>&1 || true
		find . -path ./.regionfs -prune -o \( -type f -o -type d \) -print0 | sort -z |
			xargs -0 -r lsattr -d 2>&1 || true
	)
}

same_tree() {
	local now
	now=$(snapshot)
	[[ "$1" == "$now" ]] && return 0
	diff <(echo "$1") <(echo "$now") | head -20 >&2
	fail "the tree differs $2"
}

tree_build() {
	mkdir -p "$MNT/dir with spaces/sub"
	head -c 3M /dev/urandom >"$W/data"
	cp "$W/data" "$MNT/dir with spaces/region"
	ln "$MNT/dir with spaces/region" "$MNT/dir with spaces/sub/hard link"
	ln -s "../region" "$MNT/dir with spaces/sub/symlink"
	mkfifo "$MNT/fifo"
	echo small >"$MNT/small"
	chmod 2750 "$MNT/dir with spaces/sub"
	chown 65534:65534 "$MNT/small"
	touch -d "2001-02-03 04:05:06.789" "$MNT/small"
	setfattr -n user.colour -v blue "$MNT/dir with spaces/region"
	setfattr -n trusted.secret -v 42 "$MNT/small"
	setfacl -d -m u:65534:rwx "$MNT/dir with spaces"
	echo inherits >"$MNT/dir with spaces/acl file"
	chattr +i "$MNT/small"
	mv "$MNT/dir with spaces/acl file" "$MNT/dir with spaces/renamed"
	rm "$MNT/fifo"
	mkfifo "$MNT/fifo"
}

holder_start() {
python3 - "$MNT" "$W" "$1" <<'EOF' &
import mmap, os, sys, time
M, W, flag = sys.argv[1], sys.argv[2], sys.argv[3]
fd = os.open(M + "/held", os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 8 << 20)
m = mmap.mmap(fd, 8 << 20)
m[0:5] = b"first"
m.flush()  # on the daemon's data path, the store reaches the region now
os.unlink(M + "/held")
open(W + "/holding", "w").close()
while not os.path.exists(W + "/" + flag):
    time.sleep(0.02)
st = os.fstat(fd)
assert st.st_size == 8 << 20 and st.st_nlink == 0, (st.st_size, st.st_nlink)
assert m[0:5] == b"first", m[0:5]
os.pwrite(fd, b"after", 4096)
assert m[4096:4101] == b"after"
m[8192:8197] = b"store"
assert os.pread(fd, 5, 8192) == b"store"
os.ftruncate(fd, 9 << 20)
assert os.fstat(fd).st_size == 9 << 20
m.close()
os.close(fd)
open(W + "/held-ok", "w").close()
EOF
	holder=$!
	wait_until 10 test -e "$W/holding" || fail "holder did not start"
}

holder_finish() {
	touch "$W/$1"
	wait "$holder" || fail "the holder failed across $2"
	[[ -e "$W/held-ok" ]] || fail "the holder did not finish"
}

load_config() {
	fio_require
	truncate -s 32M "$W/view.backing"
	cat >"$1" <<EOF
[view:view]
file = $W/view.backing
[dir:chan]
lifetime = close
EOF
}

load_start() {
E=$W/errors
workers=()
: >"$E"
stop=$W/stop
rm -f "$stop"
mkdir "$MNT/stable"
for i in $(seq 50); do echo "$i" >"$MNT/stable/f$i"; done

# dd writes a file, cmp checks it.
(
	head -c 8M /dev/urandom >"$W/src"
	n=0
	while [[ ! -e $stop ]]; do
		n=$((n + 1))
		dd if="$W/src" of="$MNT/dd" bs=64k status=none 2>>"$E" || echo "dd round $n failed" >>"$E"
		cmp "$W/src" "$MNT/dd" 2>>"$E" || echo "cmp round $n differs" >>"$E"
	done
	echo "$n" >"$W/count.dd"
) &
workers+=($!)
# ls -lR over a tree nobody changes.
(
	n=0
	want=$(ls -lR "$MNT/stable")
	while [[ ! -e $stop ]]; do
		n=$((n + 1))
		[[ "$(ls -lR "$MNT/stable" 2>>"$E")" == "$want" ]] || echo "ls -lR round $n differs" >>"$E"
	done
	echo "$n" >"$W/count.ls"
) &
workers+=($!)
# flock: an exclusive lock taken and dropped.
(
	n=0
	while [[ ! -e $stop ]]; do
		n=$((n + 1))
		flock -x "$MNT/lock" -c true 2>>"$E" || echo "flock round $n" >>"$E"
	done
	echo "$n" >"$W/count.flock"
) &
workers+=($!)
# Python: mmap stores read back; a namespace model checked against the tree.
python3 - "$MNT" "$W" <<'EOF' 2>>"$E" &
import mmap, os, random, sys
M, W = sys.argv[1], sys.argv[2]
rng = random.Random(7)
fd = os.open(M + "/mapped", os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4 << 20)
m = mmap.mmap(fd, 4 << 20)
root = M + "/model"
os.mkdir(root)
model = {}  # relative path -> "d" or the file's bytes
ops = stores = 0
while not os.path.exists(W + "/stop"):
    for _ in range(50):
        i = rng.randrange(4 << 17)
        v = rng.randbytes(8)
        m[i * 8:i * 8 + 8] = v
        if m[i * 8:i * 8 + 8] != v:
            sys.exit(f"mmap store {i} not read back")
        stores += 1
    names = [p for p in model]
    dirs = [""] + [p for p in names if model[p] == "d"]
    op = rng.randrange(5)
    parent = rng.choice(dirs)
    name = os.path.join(parent, f"n{rng.randrange(30)} x")
    if op == 0 and name not in model:
        os.mkdir(os.path.join(root, name)); model[name] = "d"
    elif op == 1 and name not in model:
        data = rng.randbytes(rng.randrange(1, 5000))
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        model[name] = data
    elif op == 2 and names:
        src = rng.choice(names)
        dst = os.path.join(rng.choice([d for d in dirs if d != src and not d.startswith(src + "/")]), f"r{rng.randrange(30)}")
        if dst not in model:
            os.rename(os.path.join(root, src), os.path.join(root, dst))
            for p in sorted(model):
                if p == src or p.startswith(src + "/"):
                    model[dst + p[len(src):]] = model.pop(p)
    elif op == 3 and names:
        p = rng.choice(names)
        if model[p] != "d":
            os.unlink(os.path.join(root, p)); del model[p]
        elif not any(q.startswith(p + "/") for q in model):
            os.rmdir(os.path.join(root, p)); del model[p]
    ops += 1
    if ops % 100 == 0 or os.path.exists(W + "/stop"):
        seen = {}
        for d, ds, fs in os.walk(root):
            for x in ds:
                seen[os.path.relpath(os.path.join(d, x), root)] = "d"
            for x in fs:
                with open(os.path.join(d, x), "rb") as f:
                    seen[os.path.relpath(os.path.join(d, x), root)] = f.read()
        if seen != model:
            sys.exit(f"the tree differs from the model after {ops} changes: "
                     f"{sorted(set(seen) ^ set(model))[:5]}")
with open(W + "/count.py", "w") as f:
    f.write(f"{ops} {stores}\n")
EOF
pypid=$!
# lifetime=close: a region made in chan, used, closed, must be gone.
python3 - "$MNT" "$W" <<'EOF' 2>>"$E" &
import os, sys, time
M, W = sys.argv[1], sys.argv[2]
n = 0
while not os.path.exists(W + "/stop"):
    n += 1
    path = f"{M}/chan/r{n}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"x" * 4096)
    if os.pread(fd, 4096, 0) != b"x" * 4096:
        sys.exit(f"close region {n}: bytes")
    os.close(fd)
    # the last close removes the name, once the release is served
    for _ in range(500):
        if not os.path.exists(path):
            break
        time.sleep(0.01)
    else:
        sys.exit(f"close region {n}: still named 5 s after its last close")
with open(W + "/count.close", "w") as f:
    f.write(f"{n}\n")
EOF
workers+=($!)
# Two SQLite writers on one database.
sqlite3 "$MNT/db" 'PRAGMA journal_mode = WAL; CREATE TABLE t (who TEXT, n INTEGER);' >/dev/null
for who in A B; do
	python3 - "$MNT/db" "$who" "$W" <<'EOF' 2>>"$E" &
import os, sqlite3, sys, time
db, who, W = sys.argv[1:4]
c = sqlite3.connect(db, timeout=60, isolation_level=None)
n = 0
while not os.path.exists(W + "/stop"):
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t VALUES (?, ?)", (who, n))
    c.execute("COMMIT")
    n += 1
    time.sleep(0.001)  # the other writer's turn
with open(f"{W}/count.sql.{who}", "w") as f:
    f.write(f"{n}\n")
EOF
	workers+=($!)
done
# fio writes 8 MiB at random and verifies its crc32c, over and over, on a
# region and on the view.
for target in region view; do
	(
		[[ $target == view ]] && file=$MNT/view || file=$MNT/fio.region
		cd "$W" || exit 1
		n=0
		while [[ ! -e $stop ]]; do
			n=$((n + 1))
			fio --name="$target" --filename="$file" --size=8M --bs=4k --rw=randwrite \
				--ioengine=psync --verify=crc32c --verify_fatal=1 --do_verify=1 \
				--output="$W/fio.$target" >/dev/null 2>>"$E" ||
				echo "fio round $n on the $target failed: $(grep -m1 -i err "$W/fio.$target")" >>"$E"
		done
		echo "$n" >"$W/count.fio.$target"
	) &
workers+=($!)
done

}

load_finish() {
	local p rows want ops stores
	touch "$stop"
	wait "$pypid" || echo "the Python client failed" >>"$E"
	for p in "${workers[@]}"; do
		wait "$p" || echo "a client (pid $p) failed" >>"$E"
	done
	if [[ -s "$E" ]]; then
		sort "$E" | uniq -c | sort -rn | head -20 >&2
		fail "clients saw errors $1"
	fi
	rows=$(sqlite3 "$MNT/db" 'SELECT count(*) FROM t')
	want=$(($(cat "$W/count.sql.A") + $(cat "$W/count.sql.B")))
	assert_eq "$want" "$rows" "SQLite rows committed by the two writers"
	[[ "$(sqlite3 "$MNT/db" 'PRAGMA integrity_check')" == ok ]] || fail "SQLite integrity_check"
	cmp "$W/src" "$MNT/dd" || fail "the last dd round"
	read -r ops stores <"$W/count.py"
	LOAD_DONE="$(cat "$W/count.dd") dd+cmp rounds of 8 MiB, $ops namespace changes and $stores mmap stores checked, $rows SQLite rows, $(cat "$W/count.fio.region") and $(cat "$W/count.fio.view") fio crc32c write+verify rounds on a region and a view, $(cat "$W/count.close") lifetime=close regions gone with their last close, $(cat "$W/count.ls") ls -lR, $(cat "$W/count.flock") flock"
}
