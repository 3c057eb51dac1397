/**
 * `Pipe`, `Connection`, `Listener` and `Client`: messages between processes over kernel sockets.
 *
 * @module @multiproc/pipe
 */
import { registerContextFactory } from '@multiproc/core/internal';
import { Pipe } from './pipe';

export { Connection } from './connection';
export { Pipe } from './pipe';
export { Listener, Client, type Address, type Family, type ListenerOptions } from './listener';

// getContext(method).Pipe: a Pipe is the same whatever the start method.
registerContextFactory('Pipe', () => Pipe);

declare module '@multiproc/core' {
  interface Context {
    Pipe: typeof Pipe;
  }
}
