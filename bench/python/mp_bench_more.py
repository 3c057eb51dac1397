"""mp_bench.py's benchmarks, plus workloads it does not have, measured the same way.

Run as mp_bench.py is (--only, --rounds, --out); bench/run.mjs runs this script. The reference
script stays as it is, in ../shared/bench/python; this one imports it and adds to its list.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'bench', 'python'))
import mp_bench  # noqa: E402
from mp_bench import child_queue_consumer, clock, mp, record  # noqa: E402

# 12. queue_1to2_items_per_s: one producer puts QUEUE_1TO2_COUNT items {'i': i} and then one
#     sentinel (None) per consumer into one mp.Queue; 2 consumer processes get()s until a
#     sentinel. Parent clock: from 'go' (after all 3 handshakes) until both consumers reported.
QUEUE_1TO2_COUNT = 200_000
QUEUE_1TO2_CONSUMERS = 2
QUEUE_1TO2_REPS = 5


def child_fanout_producer(q, conn, count, sentinels):
    conn.send('ready')
    conn.recv()                                  # 'go'
    put = q.put
    for i in range(count):
        put({'i': i})
    for _ in range(sentinels):
        put(None)


def bench_queue_1to2():
    ctx = mp.get_context('spawn')
    vals = []
    for _ in range(QUEUE_1TO2_REPS):
        q = ctx.Queue()
        a, b = ctx.Pipe()
        prod = (ctx.Process(target=child_fanout_producer, args=(q, b, QUEUE_1TO2_COUNT, QUEUE_1TO2_CONSUMERS)), a, b)
        cons = []
        for _ in range(QUEUE_1TO2_CONSUMERS):
            ca, cb = ctx.Pipe()
            cons.append((ctx.Process(target=child_queue_consumer, args=(q, cb)), ca, cb))
        for p, _, _ in [prod] + cons:
            p.start()
        for _, c, _ in [prod] + cons:
            assert c.recv() == 'ready'
        t0 = clock()
        a.send('go')
        counts = [c.recv() for _, c, _ in cons]
        dt = clock() - t0
        assert sum(counts) == QUEUE_1TO2_COUNT, counts
        for p, c, d in [prod] + cons:
            p.join(); c.close(); d.close()
        q.close(); q.join_thread()
        vals.append(QUEUE_1TO2_COUNT / dt)
    record('queue_1to2_items_per_s', 'items/s', vals, total_items=QUEUE_1TO2_COUNT,
           timed='from go (after all 3 handshakes) until both consumers reported')


mp_bench.BENCHES.append(('queue_1to2_items_per_s', bench_queue_1to2))

if __name__ == '__main__':
    mp_bench.main()
