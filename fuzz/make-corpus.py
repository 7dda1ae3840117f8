#!/usr/bin/env python3
"""Builds the seed corpora in fuzz/corpus/<target>/ from the netlink
fixtures (tests/fixtures/netlink, including the real 6.1 captures).
Idempotent; run from anywhere: python3 fuzz/make-corpus.py"""
import glob
import hashlib
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests/fixtures/netlink")
CORPUS = os.path.join(ROOT, "fuzz/corpus")


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(p):
    with open(p, "rb") as f:
        return f.read()


devlink = sorted(glob.glob(f"{FIX}/port_*.bin") + glob.glob(f"{FIX}/seq_*.bin")
                 + glob.glob(f"{FIX}/ctrl_*.bin") + glob.glob(f"{FIX}/capture-*/*devlink*.bin"))
rtnl = sorted(glob.glob(f"{FIX}/link_*.bin") + glob.glob(f"{FIX}/capture-*/*rtnl*.bin"))
for p in devlink:
    put("devlink_message", read(p))
for p in rtnl:
    put("rtnl_link_message", read(p))

# monitor_stream: the captured add / rename / del phases, drained per phase.
for series in ["6.1", "6.12"]:
    stream = b""
    for phase in ["add", "rename", "del"]:
        for p in sorted(glob.glob(f"{FIX}/capture-{series}/capture-{phase}-*-mon.bin")):
            ch = 0 if "devlink" in p else 1
            data = read(p)
            stream += struct.pack("<BH", ch, len(data)) + data
        stream += b"\xff"
    put("monitor_stream", stream)
for p in sorted(glob.glob(f"{FIX}/seq_*.bin")):
    data = read(p)
    put("monitor_stream", struct.pack("<BH", 0, len(data)) + data + b"\xff")

for text in [
    "MAC        : 00:53:00:00:10:00\nMaxTxRate  : 0\nState      : Followed\n",
    "MaxTxRate  : 0\n",
    "MAC : 00:53:00:00:10\n",
]:
    put("smartnic_config", text.encode())

for text in [
    "vif-plug:representor:pf-mac=00:53:00:00:10:00\nvif-plug:representor:vf-num=3",
    "vif-plug:representor:pf-mac=00:53:00:00:10:00\nvif-plug:representor:sf-num=8",
    "vif-plug:representor:pf-mac=00:53:00:00:10:00",
    "vif-plug:representor:vf-num=65536\nrequested-chassis=hv1",
    "vif-plug:representor:pf-mac=00:53:00:00:10:00\nvif-plug:representor-vf-num=3",
    "vif-plug:representor:pf-mac=00:53:00:00:10:00\nVif-Plug:Representor:vf-num=3",
]:
    put("options", text.encode())
