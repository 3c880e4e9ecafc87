#!/usr/bin/env python3
"""Restart time of -o restart (README, Restart): for a mount holding N regions,
kill -9 the serving process K times and time, for each, from the kill to a
client's next create answered (and the daemon's own figure, from the
supervisor seeing the death to the resend); then K live upgrades (SIGUSR2 to
the supervisor, as regionfs --upgrade sends, the installed binary being the
same), each from the signal to regionfs_upgrades_total counting it (the
installed binary's --check-state, the exec, the state made again, the
restart; the daemon's own figure from the kill to the resend). A client stats
and reads in a loop meanwhile; its longest wait is the longest stall it saw.

    tests/bench/restart.py REGIONFS OUT [N ...]     (make bench runs it)

Prints a table and writes OUT/restart.txt. Exit 1 if a client saw an error.
"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def metric(mnt, name):
    with open(mnt + "/.regionfs/metrics") as f:
        for line in f:
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


def run(regionfs, n, kills):
    mnt = tempfile.mkdtemp(prefix="rfs-bench-restart.")
    sup = subprocess.Popen([regionfs, "-f", "-o", "restart,size=2G", mnt],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.ismount(mnt):
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"restart bench: {mnt} not mounted")
        os.mkdir(mnt + "/many")
        for i in range(n):
            os.close(os.open(f"{mnt}/many/r{i}", os.O_CREAT | os.O_WRONLY, 0o644))
        with open(mnt + "/probe", "wb") as f:
            f.write(b"x" * 4096)
        stop = threading.Event()
        stall = [0.0]
        errors = []

        def client():
            last = time.monotonic()
            while not stop.is_set():
                try:
                    os.stat(mnt + "/probe")
                    with open(mnt + "/probe", "rb") as f:
                        f.read()
                except OSError as e:
                    errors.append(e)
                now = time.monotonic()
                stall[0] = max(stall[0], now - last)
                last = now

        t = threading.Thread(target=client)
        t.start()
        took, own = [], []
        for k in range(kills):
            time.sleep(0.3)
            (child,) = children(sup.pid)
            t0 = time.monotonic()
            os.kill(child, 9)
            # A new name: no cache can answer for the serving process.
            open(f"{mnt}/after{k}", "w").close()
            took.append(time.monotonic() - t0)
            own.append(metric(mnt, "regionfs_last_restart_seconds"))
        kill_stall = stall[0]
        stall[0] = 0.0
        up_took, up_own = [], []
        for k in range(kills):
            time.sleep(0.3)
            t0 = time.monotonic()
            os.kill(sup.pid, signal.SIGUSR2)
            while metric(mnt, "regionfs_upgrades_total") < k + 1:
                if metric(mnt, "regionfs_upgrades_refused_total"):
                    raise SystemExit(f"restart bench: an upgrade was refused (see {mnt}'s stats)")
                time.sleep(0.001)
            up_took.append(time.monotonic() - t0)
            up_own.append(metric(mnt, "regionfs_last_restart_seconds"))
        stop.set()
        t.join()
        return [("kill -9", took, own, kill_stall), ("upgrade", up_took, up_own, stall[0])], errors
    finally:
        subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        try:
            sup.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sup.kill()
        os.rmdir(mnt)


def main():
    regionfs, out = sys.argv[1], sys.argv[2]
    sizes = [int(x) for x in sys.argv[3:]] or [10, 100000]
    kills = int(os.environ.get("RESTART_KILLS", "10"))
    rows = ["regions  event    times  to-served p50  p99      daemon's p50  longest client stall"]
    bad = False
    for n in sizes:
        events, errors = run(regionfs, n, kills)
        bad |= bool(errors)
        for what, took, own, stall in events:
            rows.append(f"{n:>7}  {what:<7}  {kills:>5}  {statistics.median(took) * 1e3:>10.1f} ms"
                        f"  {pct(took, 99) * 1e3:>6.1f} ms  {statistics.median(own) * 1e3:>9.1f} ms"
                        f"  {stall * 1e3:>13.1f} ms" + (f"  ERRORS: {errors[:3]}" if errors else ""))
    text = "\n".join(rows) + "\n"
    sys.stdout.write(text)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "restart.txt"), "w") as f:
        f.write(text)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
