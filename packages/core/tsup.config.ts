import { preset } from '../../tsup.preset';

// The child's entry point is its own small file: it loads dist/index.js at run time rather than
// bundling a second copy of core (see src/child.ts). node-internals is built alone too, for the
// queue's broker thread, which needs those few functions and not the rest of core.
export default preset({
  entry: { index: 'src/index.ts', child: 'src/child.ts', 'node-internals': 'src/node-internals.ts' },
  dts: { entry: { index: 'src/index.ts', internal: 'src/internal.ts', 'node-internals': 'src/node-internals.ts' } },
});
