import { join } from 'node:path';

/** The functions of the compiled addon (src/native.c), which checks types but words errors tersely. */
export interface Binding {
  shmOpen(name: string, create: boolean): number;
  shmUnlink(name: string): void;
  anonymous(): number;
  map(fd: number, size: number): ArrayBuffer;
  unmap(buffer: ArrayBuffer): void;
  /** 0 ok, 1 not-equal, 2 timed-out. */
  wait(view: Int32Array, index: number, expected: number, timeoutMs: number): number;
  wake(view: Int32Array, index: number, count: number): number;
  /** Returns an id for cancel(); done gets 0 ok, 1 not-equal, 2 timed-out, 3 cancelled. */
  waitAsync(view: Int32Array, index: number, expected: number, timeoutMs: number, done: (code: number) => void): number;
  cancel(id: number): boolean;
  processStartTime(pid: number): bigint | null;
  exitNow(code: number): never;
}

/**
 * Loads the binary for this platform from the package's prebuilds/ (dist/ is one level below the
 * package), or returns why it cannot. node-gyp-build's own `<NAME>_PREBUILD` variable (here
 * `@MULTIPROC/NATIVE_PREBUILD`) points it at another directory: the tests use it to see the
 * missing-binary error.
 */
export function loadBinding(): Binding | Error {
  const dir = join(__dirname, '..');
  try {
    return require('node-gyp-build')(dir) as Binding;
  } catch (err) {
    return new Error(missingText(err as Error), { cause: err });
  }
}

function missingText(err: Error): string {
  const libc = process.platform === 'linux' ? `-${process.env.LIBC || (isAlpine() ? 'musl' : 'glibc')}` : '';
  const target = `${process.platform}-${process.arch}${libc}`;
  const found = /No native build was found/.test(err.message);
  return (
    `@multiproc/native has ${found ? 'no binary' : 'a binary that does not load'} for ${target} (Node ${process.version})` +
    (found ? '' : `: ${err.message.split('\n')[0]}`) +
    '. Shared memory, locks and shared values need it. Use a platform it ships binaries for (Linux x64/arm64 with glibc or musl, macOS x64/arm64), ' +
    'or build it from source: `node node_modules/@multiproc/native/scripts/build.mjs` with a C compiler and the node-api-headers package installed' +
    (libc === '-glibc' && !found ? '; on a musl distribution other than Alpine set LIBC=musl' : '') +
    '.'
  );
}

function isAlpine(): boolean {
  try {
    require('node:fs').accessSync('/etc/alpine-release');
    return true;
  } catch {
    return false;
  }
}
