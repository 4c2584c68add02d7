#!/usr/bin/env python3
"""Run a command and print its wall time, CPU seconds and peak RSS as JSON on fd 3's stand-in (last stderr line)."""
import json, resource, subprocess, sys, time

t0 = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.monotonic() - t0
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("MEASURE " + json.dumps({"rc": r.returncode, "wall": wall, "cpu": u.ru_utime + u.ru_stime,
                               "user": u.ru_utime, "sys": u.ru_stime, "maxrss_mib": u.ru_maxrss / 1024}), file=sys.stderr)
