#!/usr/bin/env bash
# Directory listings as on tmpfs: while another process renames, creates and
# removes entries in the same directory, every entry present throughout is
# listed exactly once and each listing ends; listing n entries costs O(n)
# (times for 10,000 and 100,000 reported, per entry).
. "$(dirname "$0")/lib.sh"

rfs_mount -o size=64M
W=$RFS_WORK
mkdir "$MNT/d"
python3 -c '
import os, sys
d = sys.argv[1]
for i in range(5000):
    os.close(os.open("%s/s%05d" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644))
' "$MNT/d"

# The churner renames the odd entries to and fro, and makes and removes
# others, until told to stop; the lister lists 10 times meanwhile.
python3 -c '
import os, sys
d, stop = sys.argv[1], sys.argv[2]
n = 0
while not os.path.exists(stop):
    for i in range(1, 5000, 2):
        a, b = "%s/s%05d" % (d, i), "%s/r%05d" % (d, i)
        try:
            os.rename(a, b) if n % 2 == 0 else os.rename(b, a)
        except FileNotFoundError:
            pass
        if i % 64 == 1:
            t = "%s/tmp%d-%d" % (d, n, i)
            os.close(os.open(t, os.O_CREAT | os.O_WRONLY, 0o644))
            os.unlink(t)
    n += 1
print(n)
' "$MNT/d" "$W/stop" >"$W/churn.out" &
churner=$!
python3 -c '
import os, sys, time, collections
d = sys.argv[1]
most = 0
for rnd in range(10):
    names = []
    # Slowly, so that the renames land between the reads of one listing.
    with os.scandir(d) as it:
        for e in it:
            names.append(e.name)
            if len(names) % 50 == 0:
                time.sleep(0.002)
    most = max(most, len(names))
    c = collections.Counter(names)
    for i in range(0, 5000, 2):
        k = "s%05d" % i
        if c[k] != 1:
            sys.exit("round %d: %s listed %d times" % (rnd, k, c[k]))
    twice = [k for k, v in c.items() if v > 1]
    if twice:
        sys.exit("round %d: listed twice: %s" % (rnd, twice[:5]))
    if len(names) > 5000 + 200:
        sys.exit("round %d: %d entries for 5000" % (rnd, len(names)))
print(most)
' "$MNT/d" >"$W/list.out" 2>&1 || { touch "$W/stop"; wait "$churner"; fail "listing under renames: $(cat "$W/list.out")"; }
touch "$W/stop"
wait "$churner" || fail "the churner failed"
ok "10 slow listings of 5000 entries while another process renamed 2500 of them $(cat "$W/churn.out") times over and made and removed others: every untouched entry once, nothing twice, at most $(cat "$W/list.out") entries"

# --- the cost of a listing, by size (made through control: one write)
per_entry=()
for n in 10000 100000; do
	python3 -c '
import os, sys
n, m = int(sys.argv[1]), sys.argv[2]
fd = os.open(m + "/.regionfs/control", os.O_WRONLY)
os.write(fd, "".join("region big%d/f%07d size=0\n" % (n, i) for i in range(n)).encode())
os.close(fd)
' "$n" "$MNT"
	t=$(python3 -c '
import os, sys, time
d = sys.argv[1]
best = None
for _ in range(3):
    t = time.perf_counter()
    k = 0
    with os.scandir(d) as it:
        for _ in it:
            k += 1
    t = time.perf_counter() - t
    best = t if best is None else min(best, t)
assert k == int(sys.argv[2]), k
print("%.3f" % best)
' "$MNT/big$n" "$n")
	per_entry+=("$(python3 -c "print('%.2f' % ($t * 1e6 / $n))")")
	echo "# listing $n entries: $t s"
done
ok "listing 10,000 entries: ${per_entry[0]} us each; 100,000: ${per_entry[1]} us each"
