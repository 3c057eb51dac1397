// A producer/consumer pipeline: one producer, three workers, a bounded queue between them.
// The bounded queue (maxsize 8) makes the producer wait whenever the workers fall behind, so
// memory stays small however much there is to do. One `null` per worker says "no more".
import { Process, Queue, cpuCount, isMainModule } from 'multiproc';
import { createHash } from 'node:crypto';

const WORKERS = 3;
const JOBS = 60;

export async function produce(jobs: Queue<number | null>, workers: number): Promise<void> {
  for (let n = 1; n <= JOBS; n++) await jobs.put(n);
  for (let i = 0; i < workers; i++) await jobs.put(null);
}

export async function work(jobs: Queue<number | null>, results: Queue<[number, string]>): Promise<void> {
  for (;;) {
    const n = await jobs.get();
    if (n === null) return;
    // Something CPU-bound: hash the number 20,000 times.
    let digest = String(n);
    for (let i = 0; i < 20_000; i++) digest = createHash('sha256').update(digest).digest('hex');
    await results.put([n, digest.slice(0, 12)]);
  }
}

if (isMainModule(import.meta)) {
  const jobs = new Queue<number | null>(8);
  const results = new Queue<[number, string]>();
  const producer = new Process({ target: produce, args: [jobs, WORKERS] });
  const workers = Array.from({ length: WORKERS }, () => new Process({ target: work, args: [jobs, results] }));
  producer.start();
  for (const w of workers) w.start();

  const digests = new Map<number, string>();
  while (digests.size < JOBS) {
    const [n, digest] = await results.get();
    digests.set(n, digest);
  }
  await producer.join();
  for (const w of workers) await w.join();
  console.log(`${digests.size} jobs done by ${WORKERS} workers on ${cpuCount()} CPUs`);
  console.log(`job 1 -> ${digests.get(1)}`);
  console.log(`exit codes: ${[producer, ...workers].map((p) => p.exitCode).join(' ')}`);
}
