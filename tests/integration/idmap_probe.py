"""An idmapped mount of a directory's file system (uid and gid 1000 on it are
2000 through the idmapped mount), and what is made and allowed through it:
one line per case, the same on tmpfs and on regionfs (t_idmap.sh). Run as
root. Usage: idmap_probe.py --target TARGET SOURCE
"""
import ctypes
import errno
import os
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
target, src = sys.argv[2], sys.argv[3]  # --target TARGET SOURCE
class MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]
def check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, what + ": " + os.strerror(e))
    return r
# a user namespace where 2000 inside is 1000 outside
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    check(libc.unshare(0x10000000), "unshare")
    os.read(r, 1)
    os._exit(0)
os.close(r)
time.sleep(0.1)
open("/proc/%d/uid_map" % pid, "w").write("1000 2000 1\n")
open("/proc/%d/setgroups" % pid, "w").write("deny")
open("/proc/%d/gid_map" % pid, "w").write("1000 2000 1\n")
ns = os.open("/proc/%d/ns/user" % pid, os.O_RDONLY)
out = []
with open(src + "/owned", "w") as f:
    f.write("x")
os.chown(src + "/owned", 1000, 1000)
os.mkdir(src + "/d")
os.chown(src + "/d", 1000, 1000)
try:
    tree = check(libc.syscall(428, -100, src.encode(), 1 | 0o2000000), "open_tree")
    attr = MountAttr(attr_set=0x00100000, userns_fd=ns)
    check(libc.syscall(442, tree, b"", 0x1000, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))), "mount_setattr")
    check(libc.syscall(429, tree, b"", -100, target.encode(), 4), "move_mount")
    st = os.stat(target + "/owned")
    out.append("owner through the idmapped mount: %d:%d" % (st.st_uid, st.st_gid))
    p = subprocess.run(["setpriv", "--reuid=2000", "--regid=2000", "--clear-groups", "sh", "-c",
                        "echo made > %s/d/made && mkdir %s/d/sub && stat -c %%u:%%g %s/d/made %s/d/sub" % (target, target, target, target)],
                       capture_output=True, text=True)
    out.append("made as 2000 there: %s %s" % (p.stdout.strip(), p.stderr.strip()))
    out.append("owners on the mount itself: %s" % " ".join(
        "%d:%d" % (os.stat(src + "/d/" + n).st_uid, os.stat(src + "/d/" + n).st_gid)
        if os.path.exists(src + "/d/" + n) else "none" for n in ("made", "sub")))
    p = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "sh", "-c",
                        "echo x >> %s/owned" % target], capture_output=True, text=True)
    out.append("1000 writes through it: %s" % (p.returncode == 0 and "ok" or p.stderr.strip().split(":")[-1]))
    subprocess.run(["umount", "-l", target])
except OSError as e:
    out.append("idmapped mount: %s %s" % (str(e).split(":")[0], errno.errorcode[e.errno]))
os.write(w, b"x")
os.waitpid(pid, 0)
print("\n".join(out))
