import { preset } from '../../tsup.preset';
// The heartbeat thread is a file of its own: a worker_thread starts from a file.
export default preset({ entry: { index: 'src/index.ts', 'heartbeat-thread': 'src/heartbeat-thread.ts' } });
