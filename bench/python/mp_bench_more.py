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


# 13-16. The sync workloads (bench/workloads/sync.mjs): a Lock's uncontended acquire+release,
#     2 processes contending for one Lock (per acquire+release), Value('i') += 1 under its lock,
#     and the hand-off to a sleeping waiter in another process (Event set -> wait returns).
SYNC_REPS = 5
SYNC_LOCK_COUNT = 1_000_000
SYNC_CONTENDED_COUNT = 200_000
SYNC_HANDOFF_COUNT = 5_000


def bench_sync_lock():
    lock = mp.get_context('spawn').Lock()
    vals = []
    for _ in range(SYNC_REPS):
        acquire, release = lock.acquire, lock.release
        t0 = clock()
        for _ in range(SYNC_LOCK_COUNT):
            acquire()
            release()
        vals.append((clock() - t0) * 1e9 / SYNC_LOCK_COUNT)
    record('sync_lock_uncontended_ns', 'ns', vals)


def child_contender(lock, conn, count):
    conn.send('ready')
    conn.recv()
    acquire, release = lock.acquire, lock.release
    for _ in range(count):
        acquire()
        release()
    conn.send('done')


def bench_sync_contended():
    ctx = mp.get_context('spawn')
    vals = []
    for _ in range(SYNC_REPS):
        lock = ctx.Lock()
        kids = []
        for _ in range(2):
            a, b = ctx.Pipe()
            p = ctx.Process(target=child_contender, args=(lock, b, SYNC_CONTENDED_COUNT))
            p.start()
            kids.append((p, a, b))
        for _, a, _ in kids:
            assert a.recv() == 'ready'
        t0 = clock()
        for _, a, _ in kids:
            a.send('go')
        for _, a, _ in kids:
            a.recv()
        vals.append((clock() - t0) * 1e9 / (2 * SYNC_CONTENDED_COUNT))
        for p, a, b in kids:
            p.join(); a.close(); b.close()
    record('sync_lock_contended_ns', 'ns', vals)


def bench_sync_value():
    v = mp.get_context('spawn').Value('i', 0)
    vals = []
    for _ in range(SYNC_REPS):
        lock = v.get_lock()
        t0 = clock()
        for _ in range(SYNC_LOCK_COUNT):
            with lock:
                v.value += 1
        vals.append((clock() - t0) * 1e9 / SYNC_LOCK_COUNT)
    record('sync_value_incr_ns', 'ns', vals)


def child_ponger(ping, pong, conn, count):
    conn.send('ready')
    for _ in range(count):
        ping.wait()
        ping.clear()
        pong.set()


def bench_sync_handoff():
    ctx = mp.get_context('spawn')
    vals = []
    for _ in range(SYNC_REPS):
        ping, pong = ctx.Event(), ctx.Event()
        a, b = ctx.Pipe()
        p = ctx.Process(target=child_ponger, args=(ping, pong, b, SYNC_HANDOFF_COUNT))
        p.start()
        assert a.recv() == 'ready'
        t0 = clock()
        for _ in range(SYNC_HANDOFF_COUNT):
            ping.set()
            pong.wait()
            pong.clear()
        vals.append((clock() - t0) * 1e6 / (2 * SYNC_HANDOFF_COUNT))
        p.join(); a.close(); b.close()
    record('sync_event_handoff_us', 'µs', vals)


mp_bench.BENCHES.append(('sync_lock_uncontended_ns', bench_sync_lock))
mp_bench.BENCHES.append(('sync_lock_contended_ns', bench_sync_contended))
mp_bench.BENCHES.append(('sync_value_incr_ns', bench_sync_value))
mp_bench.BENCHES.append(('sync_event_handoff_us', bench_sync_handoff))

mp_bench.BENCHES.append(('queue_1to2_items_per_s', bench_queue_1to2))

if __name__ == '__main__':
    mp_bench.main()
