"""What a directory's file system does with extended attributes, POSIX ACLs,
set-user-ID on write and O_TMPFILE: one line per case, the same on tmpfs
and on regionfs (t_xattr.sh compares them). Run as root; parts run as
uid 65534 in a child. Usage: xattr_probe.py DIR
"""
import ctypes
import errno
import os
import stat
import subprocess
import sys
import time

D = sys.argv[1]
NOBODY = 65534
libc = ctypes.CDLL(None, use_errno=True)
out = []


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def case(what, fn):
    try:
        r = fn()
        out.append("%s: %s" % (what, "ok" if r is None else r))
    except OSError as e:
        out.append("%s: %s" % (what, err_name(e)))


def as_nobody(fn):
    """fn() in a child running as uid/gid 65534: its result or errno name."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            res = fn()
            msg = "ok" if res is None else str(res)
        except OSError as e:
            msg = err_name(e)
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    msg = os.read(r, 4096).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return msg


def getxattr_sized(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = libc.getxattr(path.encode(), name.encode(), buf, ctypes.c_size_t(size))
    if n < 0:
        raise OSError(ctypes.get_errno(), "getxattr")
    return n


def append(path, text):
    with open(path, "a") as fh:
        fh.write(text)


def sh(cmd):
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return (p.stdout + p.stderr).replace(D, "D").strip()


f = D + "/file"
with open(f, "w") as fh:
    fh.write("data")
os.chmod(f, 0o644)

# --- user.*, trusted.*, security.*: values, flags, errnos, sizes
case("set user.a", lambda: os.setxattr(f, "user.a", b"hello"))
case("get user.a", lambda: os.getxattr(f, "user.a"))
case("create existing", lambda: os.setxattr(f, "user.a", b"x", os.XATTR_CREATE))
case("replace missing", lambda: os.setxattr(f, "user.b", b"x", os.XATTR_REPLACE))
case("replace user.a", lambda: os.setxattr(f, "user.a", b"bye", os.XATTR_REPLACE))
case("get user.a again", lambda: os.getxattr(f, "user.a"))
case("get missing", lambda: os.getxattr(f, "user.nope"))
case("length only", lambda: getxattr_sized(f, "user.a", 0))
case("buffer too small", lambda: getxattr_sized(f, "user.a", 2))
case("empty value", lambda: os.setxattr(f, "user.empty", b""))
case("get empty", lambda: os.getxattr(f, "user.empty"))
case("64 KiB value", lambda: os.setxattr(f, "user.big", b"v" * 65536))
case("get 64 KiB", lambda: len(os.getxattr(f, "user.big")))
case("64 KiB + 1", lambda: os.setxattr(f, "user.big", b"v" * 65537))
case("name of 255", lambda: os.setxattr(f, "user." + "n" * 250, b"1"))
case("name of 256", lambda: os.setxattr(f, "user." + "n" * 251, b"1"))
case("unknown namespace", lambda: os.setxattr(f, "foo.bar", b"1"))
case("bare prefix", lambda: os.setxattr(f, "user.", b"1"))
case("trusted as root", lambda: os.setxattr(f, "trusted.t", b"T"))
case("security as root", lambda: os.setxattr(f, "security.s", b"S"))
case("list", lambda: sorted(os.listxattr(f)))
case("remove user.big", lambda: os.removexattr(f, "user.big"))
case("remove missing", lambda: os.removexattr(f, "user.big"))
case("list after", lambda: sorted(os.listxattr(f)))
os.symlink("file", D + "/link")
case("user on symlink", lambda: os.setxattr(D + "/link", "user.a", b"1", follow_symlinks=False))
os.mkdir(D + "/dir")
case("user on dir", lambda: os.setxattr(D + "/dir", "user.d", b"dir"))
case("get on dir", lambda: os.getxattr(D + "/dir", "user.d"))
before = os.stat(f).st_ctime_ns
time.sleep(0.01)
os.setxattr(f, "user.c", b"1")
case("ctime moves", lambda: os.stat(f).st_ctime_ns > before)

# --- as another user: permissions are the kernel's, trusted.* hidden
case("nobody sets on root's 0644", lambda: as_nobody(lambda: os.setxattr(f, "user.x", b"1")))
case("nobody reads user.a", lambda: as_nobody(lambda: os.getxattr(f, "user.a")))
case("nobody reads trusted", lambda: as_nobody(lambda: os.getxattr(f, "trusted.t")))
case("nobody lists", lambda: as_nobody(lambda: sorted(os.listxattr(f))))
mine = D + "/nobodys"
open(mine, "w").close()
os.chown(mine, NOBODY, NOBODY)
case("nobody sets on own", lambda: as_nobody(lambda: os.setxattr(mine, "user.mine", b"1")))
case("nobody sets trusted", lambda: as_nobody(lambda: os.setxattr(mine, "trusted.x", b"1")))

# --- POSIX ACLs: getfacl's view, the mode, enforcement, inheritance
acl = D + "/acl"
with open(acl, "w") as fh:
    fh.write("secret")
os.chmod(acl, 0o640)
case("nobody reads 0640", lambda: as_nobody(lambda: open(acl).read()))
out.append("setfacl u:nobody:rw: " + sh("setfacl -m u:nobody:rw %s" % acl))
out.append("getfacl: " + sh("getfacl -p %s" % acl).replace("\n", ","))
case("mode with ACL", lambda: oct(os.stat(acl).st_mode))
case("nobody reads via ACL", lambda: as_nobody(lambda: open(acl).read()))
case("nobody writes via ACL", lambda: as_nobody(lambda: append(acl, "+")))
os.chmod(acl, 0o600)
out.append("after chmod 600: " + sh("getfacl -p %s" % acl).replace("\n", ","))
case("nobody reads after chmod", lambda: as_nobody(lambda: open(acl).read()))
out.append("setfacl -b: " + sh("setfacl -b %s" % acl))
case("ACL xattr after -b", lambda: os.getxattr(acl, "system.posix_acl_access"))
case("mode after -b", lambda: oct(os.stat(acl).st_mode))
out.append("minimal ACL: " + sh("setfacl -m u::rwx,g::r-x,o::r-- %s" % acl))
case("minimal ACL is the mode", lambda: oct(os.stat(acl).st_mode))
case("no xattr for it", lambda: os.getxattr(acl, "system.posix_acl_access"))
# version 2; user::rw- group::r-- other::r-- (tag, perm, id little-endian)
MINIMAL = bytes.fromhex("02000000" "01000600ffffffff" "04000400ffffffff" "20000400ffffffff")
case("default ACL on a file", lambda: os.setxattr(acl, "system.posix_acl_default", MINIMAL))
case("malformed ACL", lambda: os.setxattr(acl, "system.posix_acl_access", b"\x02\x00\x00\x00\x01"))
d = D + "/inherit"
os.mkdir(d)
out.append("setfacl -d: " + sh("setfacl -d -m u:nobody:rwx,g::rx,o::- %s" % d))
old = os.umask(0o022)
with open(d + "/new", "w") as fh:
    fh.write("x")
os.mkdir(d + "/sub", 0o777)
os.mknod(d + "/fifo", stat.S_IFIFO | 0o666)
os.symlink("new", d + "/sym")
os.umask(0o077)
open(d + "/new077", "w").close()
os.umask(old)
for name in ("new", "sub", "fifo", "new077"):
    out.append("inherited %s: %s %s" % (name, oct(os.lstat(d + "/" + name).st_mode),
                                         sh("getfacl -p %s/%s" % (d, name)).replace("\n", ",")))
case("symlink mode", lambda: oct(os.lstat(d + "/sym").st_mode))
case("nobody writes inherited", lambda: as_nobody(lambda: append(d + "/new", "y")))
old = os.umask(0o027)
open(D + "/plain", "w").close()
os.mkdir(D + "/plaindir", 0o777)
os.umask(old)
case("umask without default ACL", lambda: (oct(os.stat(D + "/plain").st_mode),
                                           oct(os.stat(D + "/plaindir").st_mode)))

# --- set-user-ID and capabilities go on write by another user
suid = D + "/suid"
with open(suid, "w") as fh:
    fh.write("x")
os.chown(suid, NOBODY, NOBODY)
os.chmod(suid, 0o6755)
case("nobody writes own suid file", lambda: as_nobody(lambda: append(suid, "y")))
case("mode after write", lambda: oct(os.stat(suid).st_mode))
os.chmod(suid, 0o6745)
case("root writes suid file", lambda: append(suid, "z"))
case("mode after root's write", lambda: oct(os.stat(suid).st_mode))
os.chmod(suid, 0o2745)
case("nobody truncates sgid (g-x)", lambda: as_nobody(lambda: os.truncate(suid, 1)))
case("mode after truncate", lambda: oct(os.stat(suid).st_mode))
os.chmod(suid, 0o4777)
os.setxattr(suid, "security.capability",
            bytes.fromhex("01000002" "00200000" "00000000" "00000000" "00000000"))
case("nobody writes file with caps", lambda: as_nobody(lambda: append(suid, "w")))
case("caps after write", lambda: os.getxattr(suid, "security.capability"))
case("mode after caps write", lambda: oct(os.stat(suid).st_mode))

# --- O_TMPFILE: no name, then linkat gives one; O_EXCL never
fd = os.open(D, os.O_TMPFILE | os.O_RDWR, 0o640)
os.write(fd, b"tmp")
case("tmpfile nlink", lambda: os.fstat(fd).st_nlink)
case("tmpfile mode", lambda: oct(os.fstat(fd).st_mode))
case("listed", lambda: "#" in "".join(os.listdir(D)))
case("linkat", lambda: libc.linkat(fd, b"", -100, (D + "/named").encode(), 0x1000) or None)
case("named content", lambda: open(D + "/named").read())
case("named nlink", lambda: os.stat(D + "/named").st_nlink)
os.close(fd)
fd = os.open(D, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
r = libc.linkat(fd, b"", -100, (D + "/never").encode(), 0x1000)
out.append("O_EXCL linkat: %s" % (errno.errorcode[ctypes.get_errno()] if r else "linked"))
os.close(fd)
case("tmpfile in a dir with default ACL", lambda: os.close(os.open(d, os.O_TMPFILE | os.O_RDWR, 0o666)))

print("\n".join(out))
