/**
 * Everything in the `@multiproc/*` packages from one import (ESM and CommonJS): the same objects,
 * re-exported, not copies.
 *
 * @module multiproc
 */
// The umbrella re-exports the packages (never a copy of them), so `multiproc` and
// `@multiproc/core` hand out the very same classes.
export * from '@multiproc/errors';
export * from '@multiproc/core';
export * from '@multiproc/pipe';
export * from '@multiproc/queue';
export * from '@multiproc/pool';
export * from '@multiproc/shared';
export * from '@multiproc/sync';
