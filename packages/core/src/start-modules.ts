/**
 * What core's start part (dist/start.js, see start-part.ts) takes from this bundle, by module
 * path under src/ and name: these, not copies of its own. Values, taken at the first start: each
 * binding is set by then (processInternals by Process's static block) and never reassigned.
 * scripts/start-part.mjs fails the build when the part imports a name missing here, or no longer
 * imports one listed.
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
    '@multiproc/errors': { ProcessError },
    finalize: { joinChildrenAtExit, runChildExitHooks },
    'log/logger': { info, takeLogPrep },
    'node-internals': { nativeHandle, sendHandle, setBlocking, socketOverFd },
    options: { refuseUnknownOptions },
    'parent-process': { ParentProcess },
    process: { Process, processInternals },
    protocol: { isBootstrapMessage, SPARE_ENV },
    reduction: { dumps, loads },
    route: { countedChannel, holdChannel, routeChild, routeParent, socketOver },
    state: { state },
    timeout: { describe, waitOptions },
    'trace/recorder': { flowId, record, recordFlow, startRecording, tracing },
    wait: { Sentinel, waitable, waitFor },
  };
}
