"""A user's program for bench/workloads/process.mjs's user-shaped rows: a main module that imports
multiprocessing and starts a module-level function at a user's pace (one start every --pace
seconds). Under spawn each child re-imports this module as __mp_main__; under forkserver the
server preloads it (Python's default preload is ['__main__']). Prints the start + join samples
(ms) as one JSON line.

    python3 bench/python/user_main.py --method forkserver --runs 30 --warmup 2 --pace 0.15
"""
import argparse
import json
import multiprocessing as mp
import time


def work():
    pass


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--method', default='spawn')
    ap.add_argument('--runs', type=int, default=30)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--pace', type=float, default=0.15)
    a = ap.parse_args()
    ctx = mp.get_context(a.method)
    out = []
    for i in range(a.warmup + a.runs):
        time.sleep(a.pace)
        t0 = time.perf_counter()
        p = ctx.Process(target=work)
        p.start()
        p.join()
        ms = (time.perf_counter() - t0) * 1e3
        assert p.exitcode == 0, p.exitcode
        if i >= a.warmup:
            out.append(ms)
    print(json.dumps(out))
