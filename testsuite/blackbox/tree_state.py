#!/usr/bin/python3
"""The state of a directory tree, one line per entry, for test_crash.sh.

    tree_state.py DIR

Every entry under DIR, sorted by path: a directory by its mode, a
symbolic link by its target, a regular file by its mode and the SHA-256
of its content, and a tdb (*.tdb) by the SHA-256 of its records as
tdbdump prints them, after "tdbtool check" (which, opening it read-write
as Samba does, recovers a cut transaction; a tdb it rejects is said to be
broken).  Two trees with the same lines hold the same files, byte for
byte (tdbs record for record).  One process per tree: the crash test
takes the state of a tree twice per kill, at every kill point.
"""

import hashlib
import os
import stat
import subprocess
import sys


def tdb_line(path):
    check = subprocess.run(["tdbtool", path, "check"], capture_output=True,
                           text=True, check=False)
    if "integrity is OK" not in check.stdout + check.stderr:
        return "TDB-BROKEN"
    dump = subprocess.run(["tdbdump", path], capture_output=True,
                          check=False)
    return "T " + hashlib.sha256(dump.stdout).hexdigest()[:16]


def entry(top, rel):
    path = os.path.join(top, rel)
    st = os.lstat(path)
    mode = "%o" % stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return "%s L %s" % (rel, os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return "%s D %s" % (rel, mode)
    if rel.endswith(".tdb"):
        return "%s %s %s" % (rel, tdb_line(path), mode)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return "%s F %s %s" % (rel, digest, mode)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tree_state.py DIR")
    top = sys.argv[1]
    rels = []
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            rels.append(os.path.relpath(os.path.join(root, name), top))
    for rel in sorted(rels):
        print(entry(top, rel))


if __name__ == "__main__":
    main()
