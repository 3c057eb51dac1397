import { stopForkserver } from '@multiproc/core/internal';
import { randomUUID } from 'node:crypto';
import { afterAll, expect } from 'vitest';
import { liveTagged, whenGone } from './procs';

// Every process this test file starts, and theirs, inherit the tag: at the end none may be left.
const tag = randomUUID();
process.env.MULTIPROC_TEST_TAG = tag;

afterAll(async () => {
  // 'forkserver' spares idle until their parent ends; this process lives on, so end them first.
  stopForkserver();
  const left = await whenGone(liveTagged(tag));
  expect(left, `processes left behind by this test file: ${left.join(', ')}`).toEqual([]);
});
