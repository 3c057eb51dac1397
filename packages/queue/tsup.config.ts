import { preset } from '../../tsup.preset';

// The broker runs on a worker thread started from dist/broker.js.
export default preset({ entry: { index: 'src/index.ts', broker: 'src/broker.ts' } });
