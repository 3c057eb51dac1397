import { preset } from '../../tsup.preset';

// The broker runs on a worker thread started from dist/broker.js. It takes core's node-internals
// into its own bundle: requiring even that small entry at run time costs the thread ~2 ms of
// package resolution before it listens, and the rest of core it must not load at all.
export default preset({ entry: { index: 'src/index.ts', broker: 'src/broker.ts' }, noExternal: ['@multiproc/core/node-internals'] });
