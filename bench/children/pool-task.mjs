// Tasks for the pool workloads: the same functions for our Pool and for every peer.
export function identity(x) {
  return x;
}

/** mp_bench.py's cpu_task, sum(i*i for i in range(n)), in floating point (an exact BigInt sum would be a different workload). */
export function cpuTask(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
}

export default identity;
