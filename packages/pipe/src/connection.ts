import { BufferTooShort, EOFError, ProcessError } from '@multiproc/errors';
import { reduce, registerRebuilder, type Readiness, type Reduced, type TransferContext, type WaitOptions } from '@multiproc/core';
import {
  canSpin,
  decode,
  dumps,
  encodePlain,
  FrameWriter,
  logDebug,
  MAX_SKIP,
  messageContext,
  onTraceChange,
  receivesWaiting,
  socketFd,
  socketOverHandle,
  takeHandle,
  traceFlow,
  traceFlowId,
  traceRecord,
  waitable,
  waitFor,
  waitOptions,
  whileFlowing,
} from '@multiproc/core/internal';
import { readSync } from 'node:fs';
import type { OnReadOpts, Socket } from 'node:net';
import { BIG, FrameParser, HEADER, header, KIND_BYTES, KIND_OBJECT, MAX_MESSAGE, type Frame } from './framing';

const REBUILD_ID = '@multiproc/pipe:Connection';
/** Made only by Pipe(), Listener and Client. */
export const INTERNAL = Symbol('multiproc.pipe.internal');
/** Unread bytes past which a connection stops reading from its socket until someone receives. */
const READ_AHEAD = 256 * 1024;
/** Bytes queued in the socket past which send() waits for them to drain (backpressure). */
const WRITE_LIMIT = 1024 * 1024;

/**
 * How long a receive may read the socket itself before it waits on the event loop (see #spin),
 * and how soon an answer must have come through the event loop for the next receive to try (an
 * event-loop round trip takes ~90 µs on an idle 2-core machine, so this is well above SPIN_MS).
 */
const SPIN_MS = 0.05;
const QUICK_MS = 0.5;
/**
 * A big message is read by this thread itself while the kernel keeps giving bytes (see
 * core's sync-io.ts); a reader waits at most READ_STALL_MS for more (falling back costs it one
 * event-loop wake-up).
 */
const READ_STALL_MS = 0.5;
/** Messages up to this size are copied into a batch; bigger ones are written as they are. */
const SMALL = 16 * 1024;

const RESOLVED = Promise.resolve();

/** Whether a trace is under way: the one test the hot paths pay when it is not. */
let tracing = false;
onTraceChange((on) => (tracing = on));

/**
 * What both ends of a Pipe share for the trace: the pair's key, which end this is, and how many
 * messages each direction carried so far, so a send and its receive name the same arrow.
 */
export interface TraceLink {
  key: string;
  side: 0 | 1;
  sent: number;
  received: number;
}

/** Reads that are not into a big message's own buffer land here, and are copied out at once. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

/** Whether `a` and `b` start at the same byte of the same memory. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset;
}


/**
 * One end of a Pipe (Python's `multiprocessing.connection.Connection`): messages in order,
 * exactly once, over a kernel socket. `send`/`recv` carry structured-clone values,
 * `sendBytes`/`recvBytes` raw bytes. Every receive waits; every send is backpressured.
 */
export class Connection {
  #socket: Socket | null = null;
  /** Our socket, once it exists (an accepted end arrives a tick after Pipe() returns). */
  #attached: Promise<Socket>;
  #readable: boolean;
  #writable: boolean;
  #closed = false;
  /** Sent to another process in a message: that process owns it now. */
  #gone = false;
  #frames: Frame[] = [];
  #head = 0;
  #queuedBytes = 0;
  #eof = false;
  #error: Error | null = null;
  #wanted = false;
  /** Whether we read from the socket (once someone wanted to receive). */
  #reading = false;
  /** Reading paused: READ_AHEAD bytes wait to be received. */
  #stopped = false;
  /** The big message's buffer the current read goes into, if any. */
  #target: Buffer | null = null;
  #wakers = new Set<() => void>();
  #holds = 0;
  /** Messages sent before the socket existed, written when it arrives. */
  #unsent: [kind: number, payload: Buffer, untilKernel: boolean, settle: (p: Promise<void>) => void][] = [];
  /** Transfers of this not-yet-attached socket to other processes still under way. */
  #lent = 0;
  #link: TraceLink | null;
  /** Our messages: the first of a run of code at once, the run's next ones batched, big ones as they are. */
  #out = new FrameWriter(
    {
      hold: () => this.#readiness.hold!(),
      failed: (err) => this.#writeFailed(err),
      describe: () => `a Connection (${this.toString()})`,
    },
    { flushOn: 'tick', firstAtOnce: true, small: SMALL, spinBig: true },
  );
  /** The wait of the sends made while too much waits to be written (see #write). */
  #drained: Promise<void> | null = null;
  /** Why sending is over: the peer closed its end, or the socket failed. */
  #sendError: Error | null = null;
  /** The peer answers at once (its last message came soon after we waited for it): spin first. */
  #quick = false;
  /** Quick answers still to see before spinning again, and the next such penalty (see MAX_SKIP). */
  #skip = 0;
  #backoff = 0;
  #parser = new FrameParser(
    (frame) => {
      this.#frames.push(frame);
      this.#queuedBytes += frame.payload.length;
      this.#bigLast = frame.payload.length >= BIG;
    },
    (length) => this.#claim(length),
  );
  /**
   * A waiting recvBytesInto's buffer, first in line: the next big message is read straight into
   * it (no buffer of its own, no copy). Once claimed, `#claimed` is the message's bytes there
   * until that receive takes them; anyone else gets a copy.
   */
  #into: Buffer | null = null;
  #claimed: Buffer | null = null;
  /** The last message was big: a spin reads the next header alone, so its payload is read straight into its own buffer. */
  #bigLast = false;
  #readiness: Readiness = {
    ready: () => this.#head < this.#frames.length || this.#eof || this.#error !== null || this.#closed,
    subscribe: (wake) => {
      this.#wakers.add(wake);
      this.#want();
      return () => this.#wakers.delete(wake);
    },
    hold: () => {
      if (this.#holds++ === 0) this.#socket?.ref();
      return () => {
        if (--this.#holds === 0) this.#socket?.unref();
      };
    },
  };

  /** @internal */
  /**
   * `socket`: one to take over, one still to come, or a function making one that reads with the
   * `onread` it is given (a socket still connecting cannot be taken over).
   */
  constructor(
    token: symbol,
    socket: Socket | Promise<Socket> | ((onread: object) => Socket),
    readable: boolean,
    writable: boolean,
    unread?: Uint8Array,
    link: TraceLink | null = null,
  ) {
    if (token !== INTERNAL) throw new TypeError('Connections are made by Pipe(), Listener.accept() and Client(), not with new');
    this.#link = link;
    this.#readable = readable;
    this.#writable = writable;
    // What the previous owner had read of the stream and not received comes first.
    if (unread?.length) this.#parser.push(Buffer.from(unread.buffer, unread.byteOffset, unread.length));
    if (socket instanceof Promise) {
      this.#attached = socket.then(
        (s) => this.#attach(s),
        (err) => {
          this.#attachFailed(err);
          throw err;
        },
      );
      this.#attached.catch(() => {}); // said by every operation
    } else if (typeof socket === 'function') this.#attached = Promise.resolve(this.#attach(socket(this.#onreadOption()), true));
    else this.#attached = Promise.resolve(this.#attach(socket));
  }

  /** The socket never came (a hand-off from another process failed): every operation says why. */
  #attachFailed(err: Error): void {
    this.#error ??= err;
    for (const [, , , settle] of this.#unsent.splice(0)) settle(Promise.reject(err));
    this.#wake();
  }

  #attach(given: Socket, ours = false): Socket {
    // Not one byte is read until this process receives: a copy of an end that another process
    // also holds (the parent's, once passed to a child) must never take that process's messages.
    const socket = ours ? given : this.#own(given);
    socket.pause();
    this.#socket = socket;
    this.#out.attach(socket);
    socket.on('error', (err) => this.#fail(err));
    socket.on('end', () => {
      this.#eof = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#eof = true;
      this.#wake();
    });
    for (const [kind, payload, untilKernel, settle] of this.#unsent.splice(0)) settle(this.#write(kind, payload, untilKernel));
    if (this.#closed) {
      this.#finishClose();
      return socket;
    }
    // An idle connection never keeps its process alive; a wait on it does (see hold).
    if (this.#holds === 0) socket.unref();
    if (this.#wanted) this.#startReading(socket);
    if (this.#head < this.#frames.length) this.#wake(); // the given socket had read some
    return socket;
  }

  /**
   * Our own socket over the given one's handle, reading with `onread`: into the rest of a big
   * message's buffer (the kernel copies it there, once), else into a shared scratch buffer.
   * Whatever the given socket had read already comes first. It starts paused.
   */
  #own(given: Socket): Socket {
    const raw = takeHandle(given);
    if (!raw) return given; // closed already: its events say so
    // Read from the stream's buffer after the handle left: nothing more comes into it meanwhile.
    const early = given.readableLength > 0 ? (given.read() as Buffer | null) : null;
    given.destroy(); // the old wrapper only: it has no handle any more
    if (early) this.#parser.push(early);
    return socketOverHandle(raw, { manualStart: true, onread: this.#onreadOption() });
  }

  #onreadOption(): OnReadOpts {
    return {
      buffer: () => (this.#target = this.#parser.target()) ?? SCRATCH,
      callback: (n: number, buf: Buffer) => this.#onRead(n, buf),
    };
  }

  /** `n` bytes were read into `buf`; false stops reading. */
  #onRead(n: number, buf: Buffer): boolean {
    try {
      if (buf === this.#target) this.#parser.filled(n, buf);
      else this.#parser.push(Buffer.from(buf.subarray(0, n))); // a copy: the scratch buffer is reused
      // Somebody waits and a big message is under way: read its rest here (Node picks the next
      // read's buffer after this callback, so the stream stays in order).
      if (this.#wakers.size > 0 && receivesWaiting.n <= 1 && canSpin()) this.#readRest();
    } catch (err) {
      this.#fail(err as Error);
      this.#socket?.destroy();
      return false;
    }
    this.#wake();
    // Read ahead only so far: what nobody receives stays in the kernel (and the sender waits).
    if (this.#queuedBytes >= READ_AHEAD && this.#wakers.size === 0) {
      this.#stopped = true;
      return false;
    }
    return true;
  }

  /** Reads the rest of the big message under way from this thread, while bytes keep coming (see READ_STALL_MS). */
  #readRest(): void {
    let rest = this.#parser.rest();
    const fd = rest ? socketFd(this.#socket) : -1;
    if (!rest || fd < 0) return;
    // The event loop reads on after a stall, and meets an end of stream or an error itself.
    whileFlowing(READ_STALL_MS, () => {
      const n = readSync(fd, rest as Buffer, 0, (rest as Buffer).length, null);
      if (n === 0) return false;
      this.#parser.filled(n, rest as Buffer);
      return (rest = this.#parser.rest()) !== null;
    });
  }

  #startReading(socket: Socket): void {
    this.#reading = true;
    this.#stopped = false;
    socket.resume();
  }

  #fail(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    // A peer that vanished (killed, closed) is an end of file, not an error.
    if (code === 'ECONNRESET' || code === 'EPIPE') this.#eof = true;
    else this.#error ??= err;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #want(): void {
    this.#wanted = true;
    if (this.#socket && (!this.#reading || this.#stopped)) this.#startReading(this.#socket);
  }

  // ---- sending

  /** Serializes `obj` (structured clone) and sends it as one message. */
  send(obj: unknown): Promise<void> {
    this.#checkWritable('send(obj)');
    // Plain data takes the fast encoder, into a scratch buffer the next send reuses: the writer
    // copies what it cannot write at once.
    const payload = encodePlain(obj) ?? dumps(obj, messageContext, 'send(obj)');
    return this.#write(KIND_OBJECT, payload, false);
  }

  /** Sends `size` bytes of `buf` from `offset` as one message. */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): Promise<void> {
    this.#checkWritable('sendBytes(buf)');
    const bytes = asBuffer(buf, 'sendBytes(buf)');
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`sendBytes: offset must be a non-negative integer, got ${offset}`);
    if (offset > bytes.length) throw new RangeError(`sendBytes: offset ${offset} is past the end of the buffer (${bytes.length} bytes)`);
    const n = size ?? bytes.length - offset;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`sendBytes: size must be a non-negative integer, got ${size}`);
    if (offset + n > bytes.length) throw new RangeError(`sendBytes: offset ${offset} + size ${n} is past the end of the buffer (${bytes.length} bytes)`);
    // A big buffer is not copied: the promise resolves once the kernel has the bytes, so the
    // buffer may be reused after `await`, as after Python's send_bytes(). A small one is copied.
    return this.#write(KIND_BYTES, bytes.subarray(offset, offset + n), true);
  }

  /**
   * Writes one message (see FrameWriter): the first small one of a run of code goes to the kernel
   * at once (its peer has it even if this thread blocks next, as Python's send() returns after
   * write(2)); the run's next ones leave together once it yields (an `await`), and their promises
   * resolve then. A big one goes as is (`untilKernel`: its promise resolves once the kernel has
   * it). A send waits while more than WRITE_LIMIT bytes wait to be written.
   */
  #write(kind: number, payload: Buffer, untilKernel: boolean): Promise<void> {
    if (payload.length > MAX_MESSAGE) throw new RangeError(`a message may be at most ${MAX_MESSAGE} bytes; this one is ${payload.length}`);
    if (this.#sendError) return Promise.reject(this.#sendError);
    if (!this.#socket) {
      if (this.#error) return Promise.reject(this.#error); // it never will
      // Until the socket exists, a send waits for it (and then for the kernel, like any other).
      // A scratch buffer is reused by the next send: keep a copy (a caller's waits for the write).
      const kept = untilKernel ? payload : Buffer.from(payload);
      return new Promise((resolve) => this.#unsent.push([kind, kept, untilKernel, resolve]));
    }
    // Here, not above: a message sent before the socket existed comes back here when it does.
    if (tracing) this.#traced('send', payload.length);
    let sent = RESOLVED;
    // A batched message is on its way: the batch leaves at the end of the tick, or before this
    // process's next receive spins (a round trip), or at exit.
    if (untilKernel) sent = this.#out.frameUntilKernel(kind, payload);
    else this.#out.frame(kind, payload);
    if (this.#sendError) return Promise.reject(this.#sendError);
    if (this.#out.pending < WRITE_LIMIT) return sent;
    // Backpressure: every send made meanwhile waits for the kernel to take what waits, together.
    return (this.#drained ??= this.#out.flushed().then(() => {
      this.#drained = null;
      if (this.#sendError) throw this.#sendError;
    }));
  }

  /** The peer closed its end (EPIPE), or the socket failed: every send from now on says so. */
  #writeFailed(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    return (this.#sendError ??=
      code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED'
        ? Object.assign(new EOFError('the peer closed the connection: the message was not delivered (Python: BrokenPipeError)'), { code: 'EPIPE' })
        : err);
  }

  /**
   * Resolves when the kernel has taken everything sent so far (beyond Python: its send() blocks
   * until then).
   */
  flushed(): Promise<void> {
    return this.#out.flushed();
  }

  // ---- receiving

  /** The next message, deserialized (a byte message arrives as a Buffer). */
  recv(options?: { signal?: AbortSignal }): Promise<any> {
    this.#checkReadable('recv()');
    // A message already here resolves without waiting (one promise, no extra turns).
    if (this.#head < this.#frames.length || (this.#quick && this.#spin())) {
      try {
        return Promise.resolve(toValue(this.#take(undefined)));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#next(options?.signal, 'recv()').then(toValue);
  }

  /** The next message's bytes. A message longer than `maxlength` throws and closes the connection. */
  recvBytes(maxlength?: number | null, options?: { signal?: AbortSignal }): Promise<Buffer> {
    this.#checkReadable('recvBytes()');
    if (maxlength !== undefined && maxlength !== null && (!Number.isInteger(maxlength) || maxlength < 0)) {
      throw new RangeError(`recvBytes: maxlength must be a non-negative integer, got ${maxlength}`);
    }
    return this.#recvBytes(maxlength, options?.signal);
  }

  async #recvBytes(maxlength: number | null | undefined, signal: AbortSignal | undefined): Promise<Buffer> {
    const frame = await this.#next(signal, 'recvBytes()');
    if (maxlength !== undefined && maxlength !== null && frame.payload.length > maxlength) {
      this.close();
      throw new ProcessError(`bad message length: the message has ${frame.payload.length} bytes, more than maxlength ${maxlength}; the connection is closed`);
    }
    return frame.payload;
  }

  /**
   * Reads the next message into `buf` at `offset` and resolves with its length. A message that
   * does not fit throws BufferTooShort, whose `data` is the whole message.
   */
  recvBytesInto(buf: ArrayBufferView | ArrayBuffer, offset = 0, options?: { signal?: AbortSignal }): Promise<number> {
    this.#checkReadable('recvBytesInto(buf)');
    const target = asBuffer(buf, 'recvBytesInto(buf)');
    if (!Number.isInteger(offset) || offset < 0 || offset > target.length) {
      throw new RangeError(`recvBytesInto: offset must be an integer from 0 to ${target.length}, got ${offset}`);
    }
    const into = target.subarray(offset);
    // Only the receive first in line may offer its buffer: the next message is then its own.
    const offered = into.length >= BIG && this.#head === this.#frames.length && this.#wakers.size === 0 && !this.#into && !this.#claimed;
    if (offered) this.#into = into;
    const received = this.#next(options?.signal, 'recvBytesInto(buf)', into).then(({ payload }) => {
      if (payload.length > into.length) throw new BufferTooShort(Buffer.from(payload));
      if (!sameBytes(payload, into)) payload.copy(into);
      return payload.length;
    });
    return offered ? received.finally(() => this.#withdraw(into)) : received;
  }

  /** The parser's question: where the big message whose header just came goes (see #into). */
  #claim(length: number): Buffer | null {
    const into = this.#into;
    if (!into || length > into.length || this.#head < this.#frames.length) return null;
    this.#into = null;
    return (this.#claimed = into.subarray(0, length));
  }

  /** A receive that offered `into` ended (it may have given up): what is still in `into` moves out. */
  #withdraw(into: Buffer): void {
    if (this.#into === into) this.#into = null;
    const claimed = this.#claimed;
    if (!claimed || !sameBytes(claimed, into)) return;
    this.#claimed = null;
    this.#parser.disown(claimed);
    for (let i = this.#head; i < this.#frames.length; i++) {
      if (this.#frames[i].payload === claimed) this.#frames[i] = { kind: this.#frames[i].kind, payload: Buffer.from(claimed) };
    }
  }

  /** Whether a message (or the end of the stream) is ready, waiting up to `timeout` seconds. */
  poll(timeout: number | null | WaitOptions = 0): Promise<boolean> {
    this.#checkReadable('poll()');
    const { ms, signal } = waitOptions(timeout, 'poll(timeout)');
    return this.#poll(ms, signal);
  }

  async #poll(ms: number | null, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#readiness.ready()) return true;
    if (ms === 0) {
      // Let the event loop read what the kernel already holds, as select() would see it.
      this.#want();
      await new Promise((resolve) => setImmediate(resolve));
      return this.#readiness.ready();
    }
    return waitFor(this.#readiness, ms, signal);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<any, void, undefined> {
    for (;;) {
      try {
        yield await this.recv();
      } catch (err) {
        if (err instanceof EOFError) return;
        throw err;
      }
    }
  }

  /** The next message; `into` is the buffer of the recvBytesInto asking, if one is. */
  async #next(signal: AbortSignal | undefined, what: string, into?: Buffer): Promise<Frame> {
    // A loop: another receive woken by the same message may have taken it.
    while (!this.#readiness.ready() && !(this.#quick && this.#spin())) {
      const waited = performance.now();
      receivesWaiting.n++;
      try {
        await waitFor(this.#readiness, null, signal);
      } finally {
        receivesWaiting.n--;
      }
      // Only an answer a spin would have caught counts as quick.
      if (performance.now() - waited >= QUICK_MS) this.#quick = false;
      else if (this.#skip > 0) this.#quick = --this.#skip === 0;
      else this.#quick = true;
    }
    if (this.#head < this.#frames.length) return this.#take(into);
    if (this.#closed) throw this.#closedError(`${what}:`);
    if (this.#error) throw this.#error;
    if (this.#parser.partial) throw new EOFError('the peer closed the connection in the middle of a message');
    throw new EOFError('the peer closed the connection and every message has been received');
  }

  /**
   * Python's recv() blocks in read(2); ours would wait for the event loop to wake on the socket,
   * which costs most of a round trip's time. When the peer has been answering at once, read the
   * socket here for up to SPIN_MS first (non-blocking reads, in stream order with the event
   * loop's: both run on this thread). True when a message came; a miss stops spinning until an
   * answer is quick again, so a slow or silent peer costs no CPU. Never while another receive of
   * this process waits (a pool's parent reading many workers): that one must not be held up.
   */
  #spin(): boolean {
    const socket = this.#socket;
    const fd = socketFd(socket);
    // Not while the event loop's next read is to go into a big message's buffer: Node picked that
    // buffer after the last read, and bytes read here would land before it.
    if (receivesWaiting.n > 0 || !canSpin() || this.#target) return false;
    if (!socket || fd < 0 || this.#eof || this.#error || this.#closed) return (this.#quick = false);
    this.#want();
    this.#out.flush(); // what we sent just now goes first: the answer we wait for may be to it
    const traces = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // each empty read throws EAGAIN
    const until = performance.now() + SPIN_MS;
    try {
      do {
        let n: number;
        try {
          n = readSync(fd, SCRATCH, 0, this.#bigLast && this.#parser.partial === 0 ? HEADER : SCRATCH.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
          break; // the event loop's read meets the same error and reports it
        }
        if (n === 0) break; // end of stream: likewise
        this.#parser.push(Buffer.from(SCRATCH.subarray(0, n)));
        this.#readRest();
        if (this.#head < this.#frames.length) {
          // A hit halves the penalty: occasional misses (a peer descheduled once) cost little,
          // while a run of misses (busy cores) keeps spinning rare.
          this.#backoff >>= 1;
          return true;
        }
      } while (performance.now() < until);
    } catch (err) {
      this.#fail(err as Error); // garbage from the peer
      socket.destroy();
    } finally {
      Error.stackTraceLimit = traces;
    }
    this.#backoff = Math.min(MAX_SKIP, this.#backoff * 2 || 1);
    this.#skip = this.#backoff;
    return (this.#quick = false);
  }

  /** The oldest message, for the receive with buffer `into`: bytes claimed in another's buffer are copied. */
  #take(into: Buffer | undefined): Frame {
    const frame = this.#shift();
    if (tracing) this.#traced('recv', frame.payload.length);
    if (frame.payload !== this.#claimed) return frame;
    this.#claimed = null;
    return into && sameBytes(frame.payload, into) ? frame : { kind: frame.kind, payload: Buffer.from(frame.payload) };
  }

  /** The oldest message read; there is one. */
  #shift(): Frame {
    const frame = this.#frames[this.#head];
    this.#frames[this.#head++] = undefined as unknown as Frame;
    if (this.#head === this.#frames.length) {
      this.#frames = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    this.#queuedBytes -= frame.payload.length;
    if (this.#reading && this.#stopped && this.#queuedBytes < READ_AHEAD && this.#socket) this.#startReading(this.#socket);
    return frame;
  }

  /** A message in the trace: a span in this process's row, and its end of the arrow between the two. */
  #traced(what: 'send' | 'recv', bytes: number): void {
    const link = this.#link;
    if (!link) return traceRecord({ ph: 'X', name: what, cat: 'pipe', dur: 2, args: { bytes } });
    // A send from side s is the seq-th message of direction s; the peer receives it as such.
    const dir = what === 'send' ? link.side : 1 - link.side;
    const seq = what === 'send' ? link.sent++ : link.received++;
    traceFlow(what === 'send' ? 'out' : 'in', what, 'pipe', traceFlowId(`pipe:${link.key}:${dir}:${seq}`), { bytes, pipe: link.key, seq });
  }

  // ---- state

  /** Closes this end; the peer then receives EOF after the messages already sent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    logDebug('connection closed');
    this.#finishClose();
    this.#wake();
  }

  /**
   * Closes our descriptor once the socket exists, has left for every process it was lent to, and
   * our writes are flushed. Never shutdown(): other processes may share the socket, and the peer
   * sees EOF when the last descriptor closes, as in Python.
   */
  #finishClose(): void {
    const socket = this.#socket;
    if (!socket || this.#lent > 0) return;
    void this.flushed().then(() => socket.destroy());
  }

  get closed(): boolean {
    return this.#closed;
  }
  get readable(): boolean {
    return this.#readable;
  }
  get writable(): boolean {
    return this.#writable;
  }

  [waitable](): Readiness {
    return this.#readiness;
  }

  /**
   * At start(), the child gets a copy and this one stays usable (as in Python). In a message, the
   * end is lent: this copy closes, what it read ahead travels along, and the socket follows to
   * whichever process receives the message, once our writes have left.
   */
  [reduce](ctx: TransferContext): Reduced {
    if (this.#closed) throw this.#gone ? this.#closedError('cannot send this Connection again:') : new ProcessError('cannot send a closed Connection to another process');
    const inMessage = ctx.kind === 'message';
    if (!inMessage && this.#head < this.#frames.length) {
      throw new ProcessError('this Connection has received messages not read yet; receive them before passing the Connection to another process');
    }
    // From now on the other process reads this socket; this copy stops reading ahead.
    this.#wanted = false;
    if (this.#socket) this.#stopReading(this.#socket);
    let unread: Buffer | undefined;
    if (inMessage) {
      unread = this.#takeUnread();
      this.#closed = this.#gone = true;
      this.#wake();
    }
    let handle: unknown;
    // A socket in hand goes as is, unless it reaches the child later (then it is lent, so a close meanwhile waits).
    if (this.#socket && !inMessage && !ctx.lateHandles) handle = ctx.duplicateForChild(this.#socket);
    else {
      this.#lent++;
      handle = ctx.duplicateForChild({
        socket: this.#attached.then(async (s) => (await this.flushed(), s)),
        sent: () => {
          if (--this.#lent === 0 && this.#closed) this.#finishClose();
        },
      });
    }
    // The trace's counts travel with the end: its next message continues the arrows' numbering.
    return [REBUILD_ID, { handle, readable: this.#readable, writable: this.#writable, unread, link: this.#link }];
  }

  /** No more of the stream is read here (what was read is in the parser). */
  #stopReading(socket: Socket): void {
    socket.pause(); // with onread, this stops the handle's reads
    this.#reading = false;
  }

  /** Messages read but not received, and the start of the next one, as bytes. */
  #takeUnread(): Buffer | undefined {
    const parts: Buffer[] = [];
    for (let i = this.#head; i < this.#frames.length; i++) parts.push(header(this.#frames[i].kind, this.#frames[i].payload.length), this.#frames[i].payload);
    parts.push(...this.#parser.take());
    this.#frames = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    return parts.length ? Buffer.concat(parts) : undefined;
  }

  #closedError(what: string): ProcessError {
    return new ProcessError(
      this.#gone ? `${what} this Connection was sent to another process, which owns it now` : `${what} the connection is closed`,
    );
  }

  toString(): string {
    const dir = this.#readable && this.#writable ? 'duplex' : this.#readable ? 'read-only' : 'write-only';
    return `<Connection ${dir}${this.#closed ? ' closed' : ''}>`;
  }

  #checkReadable(what: string): void {
    if (this.#closed) throw this.#closedError(`${what}:`);
    if (!this.#readable) throw new ProcessError(`${what}: this end of the pipe only sends (Pipe(false) returns [receiver, sender])`);
  }

  #checkWritable(what: string): void {
    if (this.#closed) throw this.#closedError(`${what}:`);
    if (!this.#writable) throw new ProcessError(`${what}: this end of the pipe only receives (Pipe(false) returns [receiver, sender])`);
  }
}

function toValue(frame: Frame): unknown {
  return frame.kind === KIND_BYTES ? frame.payload : decode(frame.payload, messageContext);
}

function asBuffer(buf: unknown, what: string): Buffer {
  if (Buffer.isBuffer(buf)) return buf;
  if (ArrayBuffer.isView(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer) return Buffer.from(buf);
  throw new TypeError(`${what}: buf must be a Buffer, typed array or ArrayBuffer`);
}

registerRebuilder(
  REBUILD_ID,
  (st: { handle: unknown; readable: boolean; writable: boolean; unread?: Uint8Array; link?: TraceLink | null }, ctx) =>
    new Connection(INTERNAL, ctx.detachHandle(st.handle), st.readable, st.writable, st.unread, st.link ?? null),
);
