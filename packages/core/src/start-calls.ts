/**
 * The functions of core's start part (start.ts) that the other packages and the child's entry call
 * through @multiproc/core/internal: each loads the part at its first call (see start-part.ts).
 */
import type * as Start from './start';
import { startPart } from './start-part';
import type { TargetSpec } from './target/spec';

const start = () => startPart<typeof Start>();

export function describeTarget(target: unknown, callerFile: string | null): TargetSpec {
  return start().describeTarget(target, callerFile);
}

export function loadTarget(spec: TargetSpec): Promise<Function | null> {
  return start().loadTarget(spec);
}

export function stopForkserver(): void {
  start().stopForkserver();
}

export function runChildProcess(): Promise<never> {
  return start().runChildProcess();
}
