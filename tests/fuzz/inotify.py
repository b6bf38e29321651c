"""Linux inotify through ctypes: which files of a watched folder were opened or read.

libhdf5 reads external storage and external links in C, so a Python audit hook would miss them; inotify sees every
open(2) and read(2) of a watched file by any process, at the OS level.
"""
import ctypes
import ctypes.util
import errno
import os
import struct

IN_ACCESS = 0x00000001
IN_OPEN = 0x00000020
IN_ISDIR = 0x40000000
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")          # wd, mask, cookie, len


class Watcher:
    """Watch the files in ``folder`` for IN_OPEN | IN_ACCESS. ``events()`` drains the queue without blocking and
    returns [(file name, 'open' | 'access')] (events on the folder itself are left out)."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._libc = libc
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.wd = libc.inotify_add_watch(self.fd, self.folder.encode(), IN_OPEN | IN_ACCESS)
        if self.wd < 0:
            e = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(e, f"inotify_add_watch({self.folder}) failed")

    def events(self):
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return out
                raise
            pos = 0
            while pos + _EVENT.size <= len(buf):
                wd, mask, _, n = _EVENT.unpack_from(buf, pos)
                name = buf[pos + _EVENT.size:pos + _EVENT.size + n].rstrip(b"\0").decode(errors="replace")
                pos += _EVENT.size + n
                if mask & IN_Q_OVERFLOW:
                    out.append(("<queue overflow>", "overflow"))
                    continue
                if mask & IN_ISDIR or not name:
                    continue
                out.append((name, "open" if mask & IN_OPEN else "access"))

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
