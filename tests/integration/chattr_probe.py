"""What a directory's file system does with chattr's flags (+i, +a, +d, +A):
what lsattr shows, and what each flag refuses to which call; one line per
case, the same on tmpfs and on regionfs (t_chattr.sh compares them). Run
as root; some cases run as uid 65534. Usage: chattr_probe.py DIR
"""
import errno
import fcntl
import os
import subprocess
import sys
import time

D = sys.argv[1]
NOBODY = 65534
out = []


def case(what, fn):
    try:
        r = fn()
        out.append("%s: %s" % (what, "ok" if r is None else r))
    except OSError as e:
        out.append("%s: %s" % (what, errno.errorcode.get(e.errno, str(e.errno))))


def sh(cmd):
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return ("%d %s" % (p.returncode, (p.stdout + p.stderr).strip())).replace(D, "D")


def as_nobody(cmd):
    return sh("setpriv --reuid=%d --regid=%d --clear-groups %s" % (NOBODY, NOBODY, cmd))


def write(path, flags, data=b"x"):
    fd = os.open(path, flags)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def fallocate(path, mode, off, length):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        if libc.fallocate(fd, mode, ctypes.c_long(off), ctypes.c_long(length)):
            raise OSError(ctypes.get_errno(), "fallocate")
    finally:
        os.close(fd)


def file_cases(tag, f):
    case(tag + " read", lambda: repr(open(f).read()))
    case(tag + " open O_WRONLY", lambda: write(f, os.O_WRONLY))
    case(tag + " open O_APPEND", lambda: write(f, os.O_WRONLY | os.O_APPEND, b"+"))
    case(tag + " open O_TRUNC", lambda: write(f, os.O_RDONLY | os.O_TRUNC))
    case(tag + " truncate", lambda: os.truncate(f, 1))
    case(tag + " chmod", lambda: os.chmod(f, 0o600))
    case(tag + " chown", lambda: os.chown(f, 0, 0))
    case(tag + " utime given", lambda: os.utime(f, (1, 1)))
    case(tag + " utime now", lambda: os.utime(f, None))
    case(tag + " setxattr", lambda: os.setxattr(f, "user.x", b"1"))
    case(tag + " link", lambda: os.link(f, f + ".link"))
    case(tag + " rename", lambda: os.rename(f, f + ".moved"))
    case(tag + " unlink", lambda: os.unlink(f))
    case(tag + " fallocate keep size", lambda: fallocate(f, 1, 0, 4096))
    case(tag + " fallocate grow", lambda: fallocate(f, 0, 0, 8192))
    case(tag + " content", lambda: repr(open(f).read()) if os.path.exists(f) else "gone")


f = D + "/f"
with open(f, "w") as fh:
    fh.write("data")
out.append("lsattr new: " + sh("lsattr %s" % f))
before = os.stat(f).st_ctime_ns
time.sleep(0.01)
out.append("chattr +i: " + sh("chattr +i %s" % f))
case("ctime moved", lambda: os.stat(f).st_ctime_ns > before)
out.append("lsattr +i: " + sh("lsattr %s" % f))
file_cases("+i", f)
out.append("chattr -i +a: " + sh("chattr -i +a %s" % f))
out.append("lsattr +a: " + sh("lsattr %s" % f))
file_cases("+a", f)
out.append("chattr -a +dA: " + sh("chattr -a +dA %s" % f))
out.append("lsattr +dA: " + sh("lsattr %s" % f))
file_cases("+dA", f)
out.append("chattr +c (not kept): " + sh("chattr +c %s" % D + "/f.moved"))

d = D + "/dir"
os.mkdir(d)
open(d + "/in", "w").close()
out.append("chattr +i dir: " + sh("chattr +i %s" % d))
out.append("lsattr -d: " + sh("lsattr -d %s" % d))
case("+i dir create", lambda: open(d + "/new", "w").close())
case("+i dir mkdir", lambda: os.mkdir(d + "/sub"))
case("+i dir unlink", lambda: os.unlink(d + "/in"))
case("+i dir rename in", lambda: os.rename(D + "/f.moved", d + "/moved"))
case("+i dir rename out", lambda: os.rename(d + "/in", D + "/out"))
case("+i dir write inside", lambda: write(d + "/in", os.O_WRONLY))
case("+i dir chmod", lambda: os.chmod(d, 0o700))
out.append("chattr -i +a dir: " + sh("chattr -i +a %s" % d))
case("+a dir create", lambda: open(d + "/new", "w").close())
case("+a dir unlink", lambda: os.unlink(d + "/in"))
case("+a dir rename in", lambda: os.rename(D + "/f.moved", d + "/moved"))
case("+a dir rename out", lambda: os.rename(d + "/in", D + "/out"))
case("+a dir rename over", lambda: os.rename(d + "/new", d + "/in"))
case("+a dir listing", lambda: sorted(os.listdir(d)))
out.append("chattr -a dir: " + sh("chattr -a %s" % d))

# who may: the owner for nodump, CAP_LINUX_IMMUTABLE for +i and +a
g = D + "/nobodys"
open(g, "w").close()
os.chown(g, NOBODY, NOBODY)
os.chmod(D, 0o755)
out.append("owner chattr +d: " + as_nobody("chattr +d %s" % g))
out.append("owner chattr +i: " + as_nobody("chattr +i %s" % g))
open(D + "/roots", "w").close()
out.append("other chattr +d on root's: " + as_nobody("chattr +d %s" % D + "/roots"))

# +A: reads leave atime alone (relatime would move an atime older than mtime)
a = D + "/noatime"
with open(a, "w") as fh:
    fh.write("read me")
out.append("chattr +A: " + sh("chattr +A %s" % a))
os.utime(a, ns=(10**9, time.time_ns()))
open(a).read()
case("+A atime after a read", lambda: os.stat(a).st_atime_ns)
out.append("lsattr as owner: " + as_nobody("lsattr %s" % g))
print("\n".join(out))
