#!/bin/sh
# Run each unit-test binary given as an argument; print a summary and exit
# non-zero if any of them failed (a missing or non-executable binary fails).
# Usage: tests/run-unit.sh build/tests/test_config ...

pass=0
fail=0
failed=

for t in "$@"; do
	if [ ! -x "$t" ]; then
		echo "FAIL: $t (not found or not executable)"
		fail=$((fail + 1))
		failed="$failed $t"
		continue
	fi
	echo "== $t"
	if "$t"; then
		echo "PASS: $t"
		pass=$((pass + 1))
	else
		echo "FAIL: $t (exit status $?)"
		fail=$((fail + 1))
		failed="$failed $t"
	fi
done

echo "unit: $pass passed, $fail failed"
if [ "$fail" -ne 0 ]; then
	echo "failed:$failed"
	exit 1
fi
if [ "$pass" -eq 0 ]; then
	echo "unit: no test binaries given"
	exit 1
fi
exit 0
