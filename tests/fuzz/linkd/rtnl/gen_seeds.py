#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the fuzz-rtnl-ack seeds: python3 gen_seeds.py tests/fuzz/corpus/fuzz-rtnl-ack"""
import os
import struct
import sys

NLMSG_ERROR, PORT, BASE = 2, 0x1234, 1000
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2


def align(b):
    return b + b'\0' * (-len(b) % 4)


def attr(kind, payload):
    return align(struct.pack('=HH', 4 + len(payload), kind) + payload)


def ack(seq, error, text=None, capped=True, echo=b'', pid=PORT, extra=b''):
    request = struct.pack('=IHHII', 16 + (0 if capped else len(echo)), 20, 0x605, seq, pid)
    body = struct.pack('=i', error) + request + (b'' if capped else align(echo))
    flags = NLM_F_CAPPED if capped else 0
    if text is not None:
        flags |= NLM_F_ACK_TLVS
        body += attr(NLMSGERR_ATTR_MSG, text + b'\0') + attr(NLMSGERR_ATTR_OFFS, struct.pack('=I', 24))
    body += extra
    return align(struct.pack('=IHHII', 16 + len(body), NLMSG_ERROR, flags, seq, pid) + body)


SEEDS = {
    'ok': ack(BASE, 0),
    'eexist': ack(BASE + 1, -17),
    'extack-capped': ack(BASE + 2, -22, b'Invalid prefix for given prefix length.'),
    'extack-echo': ack(BASE + 3, -34, b'MTU too big', capped=False, echo=bytes(range(40))),
    'several': ack(BASE, 0) + ack(BASE + 1, -19, b'Unknown device') + ack(BASE + 63, 0),
    'foreign-port': ack(BASE, 0, pid=PORT + 1) + ack(BASE + 1, 0),
    'out-of-chunk': ack(BASE + 64, 0) + ack(BASE - 1, 0),
    'truncated-error': struct.pack('=IHHII', 16, NLMSG_ERROR, 0, BASE, PORT),
    'len-past-end': struct.pack('=IHHII', 4000, NLMSG_ERROR, 0, BASE, PORT) + bytes(20),
    'len-huge': struct.pack('=IHHII', 0xffffffff, NLMSG_ERROR, 0, BASE, PORT) + bytes(20),
    'attr-overlong': ack(BASE, -22, extra=b'')[:36] + struct.pack('=HH', 4000, 1) + b'abcd',
    'echo-overlong': (lambda b: b[:20] + struct.pack('=I', 5000) + b[24:])(
        ack(BASE, -22, b'x', capped=False, echo=bytes(8))),
    'int-min': align(struct.pack('=IHHII', 36, NLMSG_ERROR, NLM_F_CAPPED, BASE, PORT)
                     + struct.pack('=i', -2 ** 31) + bytes(16)),
    'control-text': ack(BASE, -22, b'bad\x01\x7f\ntext\n'),
    'wrapping-seq': ack(0xfffffff0 + 3, 0),
}

if __name__ == '__main__':
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
