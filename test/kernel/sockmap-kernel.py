#!/usr/bin/env python3
# The kernel's side of test/kernel/sockmap-kernel.test.ts: runs a script of socket-map operations
# (JSON on stdin) with the bpf() syscall and real sockets of this machine, and prints each step's
# result (JSON on stdout) in the same words the vxo side uses: "ok", an errno name, "cookie NAME"
# when a lookup returns the SO_COOKIE of the socket called NAME, "next HEX", or bpftool's dump.
# Sockets live on 127.0.0.1 / ::1 in this process, so they stay open while the maps hold them.
import ctypes
import errno
import json
import os
import socket
import struct
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF = 321
SO_COOKIE = 57
CMD = {'create': 0, 'lookup': 1, 'update': 2, 'delete': 3, 'getnext': 4, 'prog_load': 5, 'test_run': 10, 'info': 15}
BPF_PROG_TYPE_XDP = 6


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_BPF, cmd, buf, 128)
    if r < 0:
        return -ctypes.get_errno(), buf
    return r, buf


def errname(e):
    # 95 is both ENOTSUP and EOPNOTSUPP on Linux; vxo names it EOPNOTSUPP.
    return 'EOPNOTSUPP' if -e == errno.EOPNOTSUPP else errno.errorcode.get(-e, str(e))


maps = {}
socks = {}
keep = []


def addr_of(b):
    return ctypes.addressof(b)


def elem_attr(fd, key, value, flags=0):
    return struct.pack('<IIQQQ', fd, 0, addr_of(key), addr_of(value) if value is not None else 0, flags)


def cookie(s):
    return struct.unpack('<Q', s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def tcp_listener(family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind(('::1' if family == socket.AF_INET6 else '127.0.0.1', 0))
    s.listen(8)
    return s


def make_socket(name, kind):
    if kind == 'tcp':
        socks[name] = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    elif kind == 'tcp-bound':
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.0.1', 0))
        socks[name] = s
    elif kind in ('tcp-listen', 'tcp6-listen'):
        socks[name] = tcp_listener(socket.AF_INET6 if kind == 'tcp6-listen' else socket.AF_INET)
    elif kind in ('tcp-established', 'tcp-close-wait'):
        lst = tcp_listener()
        cli = socket.create_connection(lst.getsockname())
        srv, _ = lst.accept()
        socks[name] = srv
        socks[name + '.cli'] = cli
        socks[name + '.lst'] = lst
        if kind == 'tcp-close-wait':
            cli.close()
            del socks[name + '.cli']
            time.sleep(0.05)
    elif kind == 'udp':
        socks[name] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    elif kind == 'udp6':
        socks[name] = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    elif kind == 'udp-bound':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('127.0.0.1', 0))
        socks[name] = s
    elif kind == 'udp-connected':
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(('127.0.0.1', 53))
        socks[name] = s
    else:
        raise ValueError(kind)
    return 'ok'


def step(o):
    op = o['op']
    if op == 'create':
        attr = struct.pack('<IIIII', o['type'], o['key'], o['value'], o['entries'], o.get('flags', 0))
        r, _ = bpf(CMD['create'], attr)
        if r < 0:
            return errname(r)
        maps[o.get('map', 'm')] = (r, o['key'], o['value'])
        return 'ok'
    if op == 'socket':
        return make_socket(o['name'], o['kind'])
    if op == 'close':
        socks.pop(o['sock']).close()
        return 'ok'
    if op == 'reset':
        s = socks.pop(o['sock'])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.close()
        time.sleep(0.05)
        return 'ok'
    if op == 'prog':
        return run_prog(o)
    fd, ks, vs = maps[o.get('map', 'm')]
    key = ctypes.create_string_buffer(bytes.fromhex(o['key']), ks) if 'key' in o else None
    if op in ('update', 'update-fd'):
        s = socks.get(o['sock']) if op == 'update' else None
        ufd = s.fileno() if s is not None else o.get('fd', 999)
        value = ctypes.create_string_buffer(struct.pack('<Q', ufd)[:vs], vs)
        r, _ = bpf(CMD['update'], elem_attr(fd, key, value, o.get('flags', 0)))
        return 'ok' if r >= 0 else errname(r)
    if op == 'update-raw':
        value = ctypes.create_string_buffer(bytes.fromhex(o['value']), vs)
        r, _ = bpf(CMD['update'], elem_attr(fd, key, value, o.get('flags', 0)))
        return 'ok' if r >= 0 else errname(r)
    if op == 'lookup-raw':
        value = ctypes.create_string_buffer(vs)
        r, _ = bpf(CMD['lookup'], elem_attr(fd, key, value))
        return value.raw.hex() if r >= 0 else errname(r)
    if op == 'delete':
        r, _ = bpf(CMD['delete'], elem_attr(fd, key, None))
        return 'ok' if r >= 0 else errname(r)
    if op == 'lookup':
        value = ctypes.create_string_buffer(8)
        r, _ = bpf(CMD['lookup'], elem_attr(fd, key, value))
        if r < 0:
            return errname(r)
        c = struct.unpack('<Q', value.raw[:8])[0]
        for name, s in socks.items():
            if cookie(s) == c:
                return 'cookie ' + name
        return 'cookie ?'
    if op == 'getnext':
        nxt = ctypes.create_string_buffer(ks)
        attr = struct.pack('<IIQQQ', fd, 0, addr_of(key) if key is not None else 0, addr_of(nxt), 0)
        r, _ = bpf(CMD['getnext'], attr)
        return 'next ' + nxt.raw.hex() if r >= 0 else errname(r)
    if op == 'dump':
        info = ctypes.create_string_buffer(256)
        r, _ = bpf(CMD['info'], struct.pack('<IIQ', fd, 256, addr_of(info)))
        if r < 0:
            return errname(r)
        map_id = struct.unpack('<I', info.raw[4:8])[0]
        out = subprocess.run(['bpftool', 'map', 'dump', 'id', str(map_id)], capture_output=True, text=True)
        text = out.stdout
        # Cookies differ between the kernel and vxo: name them by socket.
        for name, s in socks.items():
            text = text.replace(' '.join('%02x' % b for b in struct.pack('<Q', cookie(s))), '<cookie ' + name + '>')
        return text
    raise ValueError(op)


def run_prog(o):
    # vxo's assembler numbers the maps' fds 3, 4, ... in o['maps'] order (BPF_PSEUDO_MAP_FD).
    insns = bytearray(bytes.fromhex(o['insns']))
    for i in range(0, len(insns), 8):
        if insns[i] == 0x18 and (insns[i + 1] >> 4) == 1:
            idx = struct.unpack_from('<i', insns, i + 4)[0] - 3
            struct.pack_into('<i', insns, i + 4, maps[o['maps'][idx]][0])
    code = ctypes.create_string_buffer(bytes(insns), len(insns))
    lic = ctypes.create_string_buffer(b'GPL')
    log = ctypes.create_string_buffer(1 << 16)
    attr = struct.pack('<IIQQIIQ', BPF_PROG_TYPE_XDP, len(insns) // 8, addr_of(code), addr_of(lic), 1, 1 << 16, addr_of(log))
    pfd, _ = bpf(CMD['prog_load'], attr)
    if pfd < 0:
        return 'load ' + errname(pfd) + ': ' + log.value.decode(errors='replace').strip().splitlines()[-1:][0] if log.value else 'load ' + errname(pfd)
    data = ctypes.create_string_buffer(bytes.fromhex(o['frame']), len(o['frame']) // 2)
    out = ctypes.create_string_buffer(4096)
    attr = struct.pack('<IIIIQQII', pfd, 0, len(o['frame']) // 2, 4096, addr_of(data), addr_of(out), 1, 0)
    r, buf = bpf(CMD['test_run'], attr)
    os.close(pfd)
    if r < 0:
        return 'run ' + errname(r)
    return str(struct.unpack_from('<i', buf.raw, 4)[0])


def main():
    script = json.load(sys.stdin)
    results = []
    for o in script:
        try:
            results.append(step(o))
        except OSError as e:
            results.append('oserror ' + errno.errorcode.get(e.errno, str(e.errno)))
    json.dump(results, sys.stdout)


main()
