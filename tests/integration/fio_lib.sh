# shellcheck shell=bash
# Helpers for the fio suites (t_fio_*.sh). Source after lib.sh (and view_lib.sh):
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/view_lib.sh"
#   . "$(dirname "$0")/fio_lib.sh"
#
# fio_run TAG ARGS... runs fio in $FIO_DIR (fio writes its verify state files,
# <type>-<jobname>-<jobindex>-verify.state, into its working directory), with
# JSON output in $FIO_DIR/TAG.json and stderr in $FIO_DIR/TAG.err, and leaves
# its exit status in FIO_RC. fio_bytes / fio_job_bytes / fio_job_errors read the
# JSON. fio_verified TAG BYTES WHAT asserts a clean verify of exactly BYTES.
#
# RFS_SOAK=1 selects the long form; FIO_SOAK is 1 then, else 0.

export FIO_SOAK=0
[[ -z "${RFS_SOAK:-}" || "${RFS_SOAK:-}" == 0 ]] || FIO_SOAK=1
FIO_DIR=${RFS_WORK:?source lib.sh first}/fio
FIO_RC=0
FIO_VERIFIED=0
mkdir -p "$FIO_DIR"

fio_require() {
	command -v fio >/dev/null || skip "fio missing"
}

# fio_run TAG ARGS...: run fio; FIO_RC is its exit status.
fio_run() {
	local tag=$1
	shift
	FIO_RC=0
	(cd "$FIO_DIR" && exec fio --output-format=json --output="$FIO_DIR/$tag.json" "$@") \
		2>"$FIO_DIR/$tag.err" || FIO_RC=$?
}

# _fio_json TAG EXPR: evaluate the python expression EXPR over the list of
# jobs J of TAG's JSON output (fio may print warnings ahead of the JSON).
_fio_json() {
	python3 - "$FIO_DIR/$1.json" "$2" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
i = text.find("{")
if i < 0:
    sys.exit("no JSON in " + sys.argv[1])
J = json.JSONDecoder().raw_decode(text[i:])[0]["jobs"]
print(eval(sys.argv[2]))
EOF
}

# fio_bytes TAG read|write: bytes moved in that direction, all jobs together.
fio_bytes() { _fio_json "$1" "sum(j['$2']['io_bytes'] for j in J)"; }

# fio_job_bytes TAG read|write: bytes per job, space-separated, in job order.
fio_job_bytes() { _fio_json "$1" "' '.join(str(j['$2']['io_bytes']) for j in J)"; }

# fio_job_errors TAG: each job's error (errno; 0 for none), space-separated.
fio_job_errors() { _fio_json "$1" "' '.join(str(j['error']) for j in J)"; }

# fio_report TAG: fio's stderr and per-job errors, for failure messages.
fio_report() {
	local errs
	errs=$(fio_job_errors "$1" 2>/dev/null) || errs="(no JSON)"
	printf 'fio exit %s, job errors [%s]: %s' "$FIO_RC" "$errs" \
		"$(head -c 2000 "$FIO_DIR/$1.err" | tr '\n' '|')"
}

# fio_verified TAG BYTES WHAT: fio exited 0, no job reported an error, nothing
# on stderr looks like a verify failure, and exactly BYTES were read back
# (verified) in all. Adds BYTES to FIO_VERIFIED.
fio_verified() {
	local tag=$1 want=$2 what=$3 got errs
	((FIO_RC == 0)) || fail "$what: $(fio_report "$tag")"
	errs=$(fio_job_errors "$tag") || fail "$what: cannot read fio's JSON: $(fio_report "$tag")"
	[[ "$errs" =~ ^[0\ ]+$ ]] || fail "$what: $(fio_report "$tag")"
	! grep -qE 'verify failed|verify: bad|bad magic|Expected CRC' "$FIO_DIR/$tag.err" ||
		fail "$what: fio reported verify trouble: $(fio_report "$tag")"
	got=$(fio_bytes "$tag" read)
	assert_eq "$want" "$got" "$what: bytes verified"
	FIO_VERIFIED=$((FIO_VERIFIED + got))
}

# fio_mib BYTES: BYTES in MiB, one decimal.
fio_mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# fio_drop_caches: drop the kernel's clean page cache (all of it: regionfs
# files, backing files) so the next reads must ask the daemon. Returns 1 when
# /proc/sys/vm/drop_caches is not writable (unprivileged or in a container).
fio_drop_caches() {
	{ echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null
}
