import * as errors from '@multiproc/errors';
import { register, registerRebuilder } from './reduction';

const ID = '@multiproc/core:error';
const CLASSES = new Map<string, new (...args: any[]) => Error>(Object.entries(errors));

/**
 * Our error classes cross a process boundary as themselves (as a pickled exception does in
 * Python): `Empty` arrives as `Empty`, `BufferTooShort` with its `data`. Structured clone alone
 * would give a plain Error.
 */
export function registerErrorTransfer(): void {
  for (const cls of CLASSES.values()) {
    register(cls, (err: any) => [
      ID,
      { name: err.name, message: err.message, stack: err.stack, data: err.data, cause: err.cause, props: { ...err } },
    ]);
  }
  registerRebuilder(ID, (st) => {
    const cls = CLASSES.get(st.name) ?? errors.ProcessError;
    const err: any = Reflect.construct(Error, [st.message], cls);
    Object.assign(err, st.props);
    Object.defineProperty(err, 'stack', { value: st.stack, writable: true, configurable: true, enumerable: false });
    if (st.cause !== undefined) Object.defineProperty(err, 'cause', { value: st.cause, writable: true, configurable: true, enumerable: false });
    if (st.data !== undefined) err.data = Buffer.from(st.data);
    if (err.name !== st.name) Object.defineProperty(err, 'name', { value: st.name, writable: true, configurable: true, enumerable: false });
    return err;
  });
}
