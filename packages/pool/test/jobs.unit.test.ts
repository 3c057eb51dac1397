// How a pool's calls become chunks and the chunks' results the call's (jobs.ts, shared by the
// local Pool and the RemotePool): no pool, no process; the test plays the workers.
import { describe, expect, it } from 'vitest';
import { applyJob, imapInput, imapJob, mapInput, mapJob, mapOptions, Unsettled, type Job, type JobChunk } from '../src/jobs';

interface TestChunk extends JobChunk {
  items: unknown[];
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('jobs', () => {
  it("a map's chunks: Python's default chunksize, results in input order whatever order they finish in", async () => {
    const chunks: TestChunk[] = [];
    const owed = new Unsettled<TestChunk>();
    const input = mapInput('map()', new Set(Array.from({ length: 10 }, (_, i) => i)), {}, 1);
    expect(input.chunksize).toBe(3); // divmod(10, 4 * 1) rounded up
    const result = mapJob<number>(input, false, {}, null, (job, slice, index) => {
      owed.add();
      chunks.push({ job, index, settled: false, items: slice.cut() as unknown[] });
    });
    expect(chunks.map((c) => c.items)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    for (const c of [...chunks].reverse()) owed.done(c, c.items.map((x) => (x as number) * 10));
    expect(await result.get()).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  });

  it('a chunk settles once: its first outcome counts; while chunks are owed, the process is kept alive', async () => {
    const settled: string[] = [];
    const owed = new Unsettled<TestChunk>((c) => settled.push(`settled ${c.index}`));
    const before = timers();
    let chunk!: TestChunk;
    const result = applyJob<string>({ errorCallback: (e) => settled.push(`callback ${(e as Error).message}`) }, (job: Job) => {
      owed.add();
      chunk = { job, index: 0, settled: false, items: [] };
    });
    expect(timers()).toBe(before + 1);
    owed.failed(chunk, new Error('first'));
    owed.done(chunk, ['late']);
    owed.failed(chunk, new Error('second'));
    expect(settled).toEqual(['settled 0', 'callback first']);
    expect(timers()).toBe(before);
    await expect(result.get()).rejects.toThrow('first');
  });

  it('an empty map resolves at once, with no chunk', async () => {
    const result = mapJob(mapInput('map()', [], {}, 4), false, {}, null, () => expect.unreachable());
    expect(await result.get(0)).toEqual([]);
  });

  for (const ordered of [true, false]) {
    it(`imap${ordered ? '' : 'Unordered'}: results ${ordered ? 'in input order' : 'as chunks finish'}; breaking off drops the unsent chunks`, async () => {
      const sent: TestChunk[] = [];
      const dropped: Job[] = [];
      const owed = new Unsettled<TestChunk>();
      const it = imapJob<number>(imapInput('imap()', [1, 2, 3, 4, 5], { chunksize: 2 }), 1, ordered, null, {
        submit: (job, items, index) => {
          owed.add();
          sent.push({ job, index, settled: false, items: items as unknown[] });
          // The test's worker: the last chunk first.
          if (index === 2) for (const c of [...sent].reverse()) owed.done(c, c.items);
        },
        drop: (job) => dropped.push(job),
      });
      const got: number[] = [];
      for await (const x of it) {
        got.push(x);
        if (got.length === 3) break;
      }
      expect(got).toEqual(ordered ? [1, 2, 3] : [5, 3, 4]);
      expect(dropped).toEqual([sent[0].job]);
    });
  }

  it('bad input says what was wrong', () => {
    expect(() => mapInput('map()', 5 as never, {}, 1)).toThrow('map(): iterable must be iterable (an array, a Set, a generator…), got number 5');
    expect(() => mapInput('map()', [1], { chunksize: 0 }, 1)).toThrow('map(): chunksize must be a positive integer, got number 0');
    expect(() => imapInput('imap()', {} as never, {})).toThrow('imap(): iterable must be iterable or async iterable');
    expect(() => mapOptions('x' as never)).toThrow('an object { chunksize, progress }');
    expect(() => mapOptions('x' as never, '{ chunksize }')).toThrow('an object { chunksize }, got');
  });
});
