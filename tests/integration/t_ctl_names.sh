#!/usr/bin/env bash
# The control plane and odd names: every name stats prints (spaces, tabs,
# newlines, quotes, backslashes, non-UTF-8 bytes) is accepted back by
# remove; views take quoted backing paths; metrics label values are valid
# Prometheus text. .regionfs is reachable by name but not listed, so tar,
# cp -a and find pass it by. A view whose backing file was unlinked keeps
# serving and is flagged in stats, metrics and (once) the log.
. "$(dirname "$0")/lib.sh"

rfs_require
PYSYS=/usr/bin/python3
"$PYSYS" -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "$PYSYS cannot import prometheus_client (apt-get install python3-prometheus-client)"

W=$RFS_WORK
DATA=$W/data
SP="$DATA/dir with space"
export DATA SP
mkdir -p "$SP"
head -c 64K /dev/urandom >"$SP/f"
head -c 64K /dev/urandom >"$DATA/del.data"
printf '[regionfs]\nallowed_roots = %s\n' "$DATA" >"$W/cfg.ini"
rfs_mount -c "$W/cfg.ini" -o size=16M
CTL=$MNT/.regionfs/control

# Python helpers: ctl(cmd) writes one command (bytes or str) and returns
# (errno or 0, what control says); tokens(text) cuts the first and fourth
# stats columns without decoding; unq(token) decodes one by the documented
# rule (a reference written here from conf/quote.h, not the daemon's code).
HELPERS='
import re
CTLP = M + "/.regionfs/control"
def ctl(cmd):
    if isinstance(cmd, str):
        cmd = cmd.encode()
    fd = os.open(CTLP, os.O_WRONLY)
    e = 0
    try:
        os.write(fd, cmd + b"\n")
    except OSError as x:
        e = x.errno
    finally:
        os.close(fd)
    with open(CTLP, "rb") as f:
        return e, f.read()
TOK = rb"(\"(?:[^\"\\]|\\.)*\"|[^ \"]+)"
def rows():
    with open(M + "/.regionfs/stats", "rb") as f:
        text = f.read()
    lines = text.split(b"\n")
    assert lines[-1] == b"", "stats does not end in a newline"
    out = []
    for line in lines[1:-1]:
        if line.startswith(b"#"):  # a comment: names never start with an unquoted #
            continue
        m = re.fullmatch(TOK + rb" (\S+) (\d+) " + TOK + rb" (.*)", line)
        assert m, "stats line does not parse: %r" % line
        out.append((m.group(1), m.group(2), m.group(4), m.group(5).split(b" ")))
    return out
ESC = {b"n": b"\n", b"t": b"\t", b"r": b"\r"}
def unq(tok):
    if not tok.startswith(b"\""):
        assert re.fullmatch(rb"[!-~]+", tok) and not re.search(rb"[\"\x27\\\\#]", tok), tok
        return tok
    body, out, i = tok[1:-1], b"", 0
    while i < len(body):
        c = body[i:i + 1]
        if c != b"\\":
            out += c
            i += 1
        elif body[i + 1:i + 2] == b"x":
            out += bytes([int(body[i + 2:i + 4], 16)])
            i += 4
        else:
            out += ESC.get(body[i + 1:i + 2], body[i + 1:i + 2])
            i += 2
    return out
'

# --- odd names: make them by path, find them in stats, remove them by what stats printed
py "$HELPERS"'
names = [b"with space", b"tab\there", b"new\nline", b"bad\xff\xfe", b"quote\"and\x27apos",
         b"back\\slash", b"#hash", "caf\u00e9".encode(), b"ctl\x01\x7f", b"sub dir/x y",
         b"trailing ", b"it\x27s", b"x=1"]
os.mkdir(M.encode() + b"/sub dir")
for n in names:
    with open(M.encode() + b"/" + n, "wb") as f:
        f.write(b"data of " + n)
got = {}
for tok, kind, back, rest in rows():
    assert b"\n" not in tok
    got[unq(tok)] = tok
    assert kind == b"region" and back == b"-" and len(rest) == 10, (tok, kind, back, rest)
missing = [n for n in names if n not in got]
assert not missing, "stats lacks %r; it has %r" % (missing, list(got.values()))
assert got[b"with space"] == b"\"with space\"", got[b"with space"]
assert got[b"bad\xff\xfe"] == b"\"bad\\xff\\xfe\"", got[b"bad\xff\xfe"]
assert got["caf\u00e9".encode()] == "\"caf\u00e9\"".encode()
# stats.json holds the same rows: name exact where it is UTF-8 (U+FFFD for
# other bytes), name_token exactly what stats printed.
import json, subprocess
doc = json.load(open(M + "/.regionfs/stats.json", "rb"))
js = {r["name_token"].encode(): r for r in doc["mappings"]}
assert sorted(js) == sorted(got.values()), (sorted(js), sorted(got.values()))
for n, tok in got.items():
    assert js[tok]["name"] == n.decode("utf-8", "replace"), (js[tok]["name"], n)
    assert js[tok]["kind"] == "region" and js[tok]["size"] == len(b"data of " + n), js[tok]
jq = subprocess.run(["jq", "-r", ".mappings[].name_token"], stdin=open(M + "/.regionfs/stats.json", "rb"),
                    capture_output=True, check=True).stdout
assert sorted(jq.split(b"\n")[:-1]) == sorted(got.values()), jq
for n in names:
    e, res = ctl(b"remove " + got[n])
    assert e == 0, "remove %r: errno %d, control says %r" % (got[n], e, res)
    assert not os.path.lexists(M.encode() + b"/" + n), "%r still there after remove" % n
left = [unq(r[0]) for r in rows()]
assert not left, "stats still lists %r" % left
'
ok "13 odd names (space, tab, newline, quotes, backslash, #, UTF-8, bytes 0xff/0x01/0x7f, a subdirectory): stats prints each so that 'remove <printed>' removes it; stats.json (json, jq) has each, exact in name_token"

# The issue's own commands, from the shell, and the other quoting forms.
: >"$MNT/with space"
echo 'remove "with space"' >"$CTL" || fail "echo 'remove \"with space\"' > control failed: $(cat "$CTL")"
[[ ! -e "$MNT/with space" ]] || fail "'with space' still there"
: >"$MNT/with space"
echo 'remove with\ space' >"$CTL" || fail "remove with\\ space failed: $(cat "$CTL")"
[[ ! -e "$MNT/with space" ]] || fail "'with space' still there after remove with\\ space"
: >"$MNT/it's"
echo "remove 'it'\\''s'" >"$CTL" || fail "remove 'it'\\''s' failed: $(cat "$CTL")"
[[ ! -e "$MNT/it's" ]] || fail "it's still there"
echo "view \"v sp\" file=\"$SP/f\" offset=4096 length=8192 access=ro" >"$CTL" ||
	fail "view with file=\"...dir with space...\" failed: $(cat "$CTL")"
cmp -i 4096:0 -n 8192 "$SP/f" "$MNT/v sp" || fail "view 'v sp' differs from its window"
echo "view v2 file='$SP/f' length=100" >"$CTL" || fail "file='...' failed: $(cat "$CTL")"
echo "view v3 file=${SP// /\\ }/f length=100" >"$CTL" || fail "file=...\\ ... failed: $(cat "$CTL")"
assert_size "$MNT/v2" 100
assert_size "$MNT/v3" 100
py "$HELPERS"'
r = {unq(t): (k, unq(b)) for t, k, b, rest in rows()}
want = os.environ["SP"].encode() + b"/f"
for n in (b"v sp", b"v2", b"v3"):
    assert r[n] == (b"view", want), (n, r.get(n))
for bad, why in ((b"remove \"open", b"unterminated"), (b"remove a\\q", b"unknown escape"),
                 (b"remove \\x00", b"NUL"), (b"remove \"\"", b"bad name")):
    e, res = ctl(bad)
    assert e == errno.EINVAL and why in res and res.count(b"\n") == 1, (bad, e, res)
# A command that fails when run names the view quoted too: one line.
e, res = ctl(b"view \"n\\nl\" file=\"" + os.environ["SP"].encode() + b"/f\" offset=1M access=ro")
assert e == errno.ENXIO and b"view \"n\\nl\": " in res and res.count(b"\n") == 1, (e, res)
'
ok "remove \"with space\", with\\ space, 'it'\\''s'; view file=\"dir with space\", '...', \\ : stats shows the decoded path; bad quoting is EINVAL with a one-line reason"

# --- metrics: label values are valid Prometheus text for every name
py 'open(M.encode() + b"/q\"b\\\\n\nl\xff", "wb").close()'
cat "$MNT/.regionfs/metrics" >"$W/m.prom"
"$PYSYS" "$RFS_TESTDIR/ops_prom.py" "$W/m.prom" >/dev/null || fail "metrics with odd names do not parse"
"$PYSYS" - "$W/m.prom" <<'EOF' || fail "metrics label values"
import sys
from prometheus_client.parser import text_string_to_metric_families
names = set()
for fam in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
    for s in fam.samples:
        if "name" in s.labels and s.name == "regionfs_mapping_size_bytes":
            names.add(s.labels["name"])
want = {'q"b\\\\n\nl\\xff', "v sp", "v2", "v3"}
assert names == want, "label names %r, want %r" % (names, want)
EOF
ok "metrics parse with prometheus_client; label values carry quote, backslash and newline exactly, a non-UTF-8 byte as \\xff"

# --- .regionfs: reachable by name, out of every listing
assert_eq ". .. q* sub dir v sp v2 v3" "$(ls -aq "$MNT" | sed 's/^q.*/q*/' | LC_ALL=C sort | xargs)" "ls -a of the root"
[[ -d "$MNT/.regionfs" ]] || fail "stat of .regionfs by name failed"
assert_eq "control holders metrics stats stats.json" "$(ls "$MNT/.regionfs" | xargs)" "ls of .regionfs"
[[ -z "$(find "$MNT" -name '.regionfs*')" ]] || fail "find lists: $(find "$MNT" -name '.regionfs*')"
grep -q '^name kind' "$MNT/.regionfs/stats" || fail "cat .regionfs/stats failed"
rm "$MNT/v2" "$MNT/v3" "$MNT"/q*
echo "payload" >"$MNT/sub dir/x y"
mkdir "$MNT/d"
echo "deep" >"$MNT/d/f"
cp -a "$MNT/." "$W/copy" || fail "cp -a of the mount failed"
[[ ! -e "$W/copy/.regionfs" ]] || fail "cp -a copied .regionfs"
tar -C "$MNT" -cf "$W/mnt.tar" . || fail "tar -c of the mount failed"
if tar -tf "$W/mnt.tar" | grep -q regionfs; then fail "tar archived .regionfs: $(tar -tf "$W/mnt.tar" | xargs)"; fi
rfs_unmount
rfs_mount -c "$W/cfg.ini" -o size=16M
CTL=$MNT/.regionfs/control
tar -C "$MNT" -xf "$W/mnt.tar" || fail "tar -x into a second regionfs mount failed"
assert_content "$MNT/sub dir/x y" $'payload\n'
assert_content "$MNT/d/f" $'deep\n'
cmp "$MNT/v sp" "$W/copy/v sp" || fail "the view's bytes did not come through tar"
ok ".regionfs: not in ls -a or find, reachable by name (ls, cat); cp -a and tar skip it; tar -x into a second mount succeeds"

# --- a view whose backing file is unlinked
echo "view del file=$DATA/del.data offset=0 length=65536 access=rw" >"$CTL" || fail "view del: $(cat "$CTL")"
echo "view keep file=\"$SP/f\" length=4096 access=ro" >"$CTL" || fail "view keep: $(cat "$CTL")"
col() { awk -v n="$1" 'NR > 1 && $1 == n { print $(NF - 2) }' "$MNT/.regionfs/stats"; }
assert_eq "no no" "$(col del) $(col keep)" "deleted column before the unlink"
grep -q 'regionfs_view_backing_deleted{name="del".*} 0$' "$MNT/.regionfs/metrics" || fail "metric before unlink"
exec 3<>"$MNT/del"
printf 'BEFORE' >&3
rm "$DATA/del.data"
assert_eq "yes no" "$(col del) $(col keep)" "deleted column after the unlink"
cat "$MNT/.regionfs/stats" >/dev/null
grep -q 'regionfs_view_backing_deleted{name="del".*} 1$' "$MNT/.regionfs/metrics" || fail "metric after unlink: $(grep backing_deleted "$MNT/.regionfs/metrics")"
grep -q 'regionfs_view_backing_deleted{name="keep".*} 0$' "$MNT/.regionfs/metrics" || fail "metric of keep"
if grep -q 'regionfs_view_backing_deleted{name="sub dir' "$MNT/.regionfs/metrics"; then fail "a region has the view metric"; fi
printf 'AFTER' >&3
exec 3>&-
head -c 11 "$MNT/del" | cmp - <(printf 'BEFOREAFTER') || fail "the view no longer serves its bytes"
echo "flush del" >"$CTL" || fail "flush del after unlink: $(cat "$CTL")"
# Noticed first at whichever comes first: the flush of a subshell's copy of
# fd 3, or a stats read (which names the view).
n=$(grep -c "backing file $DATA/del.data of a view was deleted" "$RFS_LOG" || true)
assert_eq 1 "$n" "warnings in the log about del (stats read 4 times, flushed, flush command)"
if grep -q "backing file $SP" "$RFS_LOG"; then fail "a warning about keep"; fi
echo "remove del" >"$CTL" || fail "remove del: $(cat "$CTL")"
ok "unlinked backing: view keeps serving; stats deleted=yes, metric 1 (others 0/no); one warning in the log; remove works"
