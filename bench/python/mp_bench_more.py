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

# 13. Shared memory: the same sizes and counts as bench/run.mjs (MB = 2**20 bytes).
SHARED_SUM_MB = 100
SHARED_SUM_REPS = 3                 # each rep iterates 2 x 13M doubles in Python: ~seconds
SHARED_PASS_SIZES_MB = (1, 100)
SHARED_PASS_PROCESS_PAIRS = 20
SHM_RMW_SIZE = 2 ** 20
SHM_RMW_PASSES = 4
SHM_RMW_REPS = 5


def _sum(a):
    s = 0.0
    for x in a:
        s += x
    return s


def child_sum_ratio(shared, conn, reps):
    """Sums the received RawArray and a local array.array('d') of the same size, alternately."""
    import array
    local = array.array('d', bytes(len(shared) * 8))
    _sum(shared); _sum(local)                    # warm-up: first touch of the mapping
    ratios = []
    for _ in range(reps):
        t = clock(); _sum(shared); t_shared = clock() - t
        t = clock(); _sum(local); t_local = clock() - t
        ratios.append(t_local / t_shared)
    conn.send(ratios)


def bench_shared_sum_ratio():
    ctx = mp.get_context('spawn')
    arr = ctx.RawArray('d', SHARED_SUM_MB * 2 ** 20 // 8)
    a, b = ctx.Pipe()
    p = ctx.Process(target=child_sum_ratio, args=(arr, b, SHARED_SUM_REPS))
    p.start()
    vals = a.recv()
    p.join()
    record('shared_sum_ratio', 'x', vals, timed='local array.array time / RawArray time, in the child')


def child_noop(*args):
    # Imported by the no-arg child too (the other one imports it to unpickle its arg), so the
    # difference is the transfer itself. mp_bench.py keeps module-level imports cheap: not there.
    import multiprocessing.sharedctypes  # noqa: F401


def bench_shared_pass():
    ctx = mp.get_context('spawn')

    def start_join(args):
        t = clock()
        p = ctx.Process(target=child_noop, args=args)
        p.start(); p.join()
        return clock() - t

    for mb in SHARED_PASS_SIZES_MB:
        arr = ctx.RawArray('d', mb * 2 ** 20 // 8)
        vals = []
        for i in range(1 + SHARED_PASS_PROCESS_PAIRS):
            d = (start_join((arr,)) - start_join(())) * 1e3
            if i:
                vals.append(d)
        record(f'shared_pass_ms[process_{mb}MB]', 'ms', vals,
               timed='start+join with a RawArray arg minus start+join with none (spawn), paired')
        del arr


def bench_shm_byte_rmw():
    import multiprocessing.shared_memory
    shm = multiprocessing.shared_memory.SharedMemory(create=True, size=SHM_RMW_SIZE)
    try:
        vals = []
        for _ in range(SHM_RMW_REPS):
            t = clock()
            for _ in range(SHM_RMW_PASSES):
                for i in range(SHM_RMW_SIZE):
                    shm.buf[i] = (shm.buf[i] + 1) % 256
            vals.append((clock() - t) * 1e9 / (SHM_RMW_SIZE * SHM_RMW_PASSES))
        record('shm_byte_rmw_ns', 'ns', vals, timed='shm.buf[i] = (shm.buf[i] + 1) % 256, per op')
    finally:
        shm.close()
        shm.unlink()


mp_bench.BENCHES.append(('shared_sum_ratio', bench_shared_sum_ratio))
mp_bench.BENCHES.append(('shared_pass_ms', bench_shared_pass))
mp_bench.BENCHES.append(('shm_byte_rmw_ns', bench_shm_byte_rmw))

if __name__ == '__main__':
    mp_bench.main()
