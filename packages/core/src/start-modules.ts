/**
 * What core's start part (dist/start.js, see start-part.ts) takes from this bundle, by module
 * path under src/ and name: these, not copies of its own. Getters, as a binding may change
 * (processInternals is set once Process is defined). scripts/start-part.mjs fails the build when
 * the part imports a name missing here, or no longer imports one listed. Made at the first start.
 */
import { ProcessError } from '@multiproc/errors';
import { joinChildrenAtExit, runChildExitHooks } from './finalize';
import { info, takeLogPrep } from './log/logger';
import { nativeHandle, sendHandle, setBlocking, socketOverFd } from './node-internals';
import { refuseUnknownOptions } from './options';
import { ParentProcess } from './parent-process';
import { Process, processInternals } from './process';
import { isBootstrapMessage, SPARE_ENV } from './protocol';
import { dumps, loads } from './reduction';
import { countedChannel, holdChannel, routeChild, routeParent, socketOver } from './route';
import { state } from './state';
import { describe, waitOptions } from './timeout';
import { flowId, record, recordFlow, startRecording, tracing } from './trace/recorder';
import { Sentinel, waitable, waitFor } from './wait';

export function startModules(): Record<string, object> {
  return {
    '@multiproc/errors': { get ProcessError() { return ProcessError; } },
    finalize: { get joinChildrenAtExit() { return joinChildrenAtExit; }, get runChildExitHooks() { return runChildExitHooks; } },
    'log/logger': { get info() { return info; }, get takeLogPrep() { return takeLogPrep; } },
    'node-internals': { get nativeHandle() { return nativeHandle; }, get sendHandle() { return sendHandle; }, get setBlocking() { return setBlocking; }, get socketOverFd() { return socketOverFd; } },
    options: { get refuseUnknownOptions() { return refuseUnknownOptions; } },
    'parent-process': { get ParentProcess() { return ParentProcess; } },
    process: { get Process() { return Process; }, get processInternals() { return processInternals; } },
    protocol: { get isBootstrapMessage() { return isBootstrapMessage; }, get SPARE_ENV() { return SPARE_ENV; } },
    reduction: { get dumps() { return dumps; }, get loads() { return loads; } },
    route: { get countedChannel() { return countedChannel; }, get holdChannel() { return holdChannel; }, get routeChild() { return routeChild; }, get routeParent() { return routeParent; }, get socketOver() { return socketOver; } },
    state: { get state() { return state; } },
    timeout: { get describe() { return describe; }, get waitOptions() { return waitOptions; } },
    'trace/recorder': { get flowId() { return flowId; }, get record() { return record; }, get recordFlow() { return recordFlow; }, get startRecording() { return startRecording; }, get tracing() { return tracing; } },
    wait: { get Sentinel() { return Sentinel; }, get waitable() { return waitable; }, get waitFor() { return waitFor; } },
  };
}
