#!/usr/bin/env python3
# ptyrun.py OUT PIDFILE CMD...: runs CMD with stdout on a new pseudo-terminal
# (raw mode: no \r added), in a session and process group of its own;
# copies what CMD writes there into OUT until CMD ends, writes its pid (= its
# process group) into PIDFILE, forwards SIGINT/SIGTERM to its group, and
# exits with its status. Used by the shell suites that need a terminal.
import os, select, signal, subprocess, sys, tty
out_path, pid_path, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
master, slave = os.openpty()
tty.setraw(slave)
p = None
def forward(sig, frame):  # to CMD's whole process group
    if p is not None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
# Handlers, not SIG_IGN (which a background job of a script starts with):
# exec resets them, so CMD gets SIGINT's default action, as on a terminal.
signal.signal(signal.SIGINT, forward)
signal.signal(signal.SIGTERM, forward)
p = subprocess.Popen(cmd, stdout=slave, start_new_session=True)
with open(pid_path + ".tmp", "w") as f:
    f.write(str(p.pid))
os.rename(pid_path + ".tmp", pid_path)
# The slave stays open here until CMD has ended and everything it wrote has
# been read: once the last slave descriptor closes, Linux may answer EIO
# before the last bytes written are readable.
with open(out_path, "ab", buffering=0) as out:
    while True:
        if select.select([master], [], [], 0.05)[0]:
            out.write(os.read(master, 65536))
        elif p.poll() is not None:
            while select.select([master], [], [], 0.05)[0]:
                out.write(os.read(master, 65536))
            break
rc = p.returncode
sys.exit(rc if rc >= 0 else 128 - rc)
