/**
 * Core's start part: starting a child (popen/), describing and loading targets (target/), and a
 * child's bootstrap (bootstrap/). Built apart as dist/start.js and loaded on first use (see
 * start-part.ts): a program that only imports core does not compile it.
 */
export { describeTarget, describeClass } from './target/describe';
export { loadTarget } from './target/load';
export { spawnBackend } from './popen/spawn';
export { forkserverBackend } from './popen/forkserver';
export { setForkserverOptions, getForkserverOptions, forkserverReady, stopForkserver } from './popen/spares';
export { runChildProcess } from './bootstrap/child';
