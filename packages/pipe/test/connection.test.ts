import { describe, expect, it } from 'vitest';
import { BufferTooShort, EOFError, Empty, ProcessError } from '@multiproc/errors';
import { Process, getContext, wait } from '@multiproc/core';
import { Connection, Pipe } from '@multiproc/pipe';
import { fileURLToPath } from 'node:url';
import { runNode, whenGone } from '../../core/test/helpers/procs';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });
/** A child running `name(end, ...args)` with one end of a fresh Pipe; `a` is ours. */
function childOnPipe(name: string, ...args: unknown[]): { a: Connection; p: Process } {
  const [a, b] = Pipe();
  const p = new Process({ target: ref(name), args: [b, ...args] });
  p.start();
  b.close();
  return { a, p };
}
/** 200 quick round trips with an echoing child: afterwards a receive reads the socket itself (see Connection#spin). */
async function quickAnswers(a: Connection): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await a.send(i);
    expect(await a.recv()).toBe(i);
  }
}
/** One event-loop turn: I/O that is ready gets done (not a timed wait). */
const turn = () => new Promise((r) => setImmediate(r));

describe('Pipe and Connection in one process', () => {
  it('delivers messages in order, exactly once, both ways', async () => {
    const [a, b] = Pipe();
    for (let i = 0; i < 1000; i++) a.send({ i, s: 'x'.repeat(i % 50) });
    for (let i = 0; i < 1000; i++) expect(await b.recv()).toEqual({ i, s: 'x'.repeat(i % 50) });
    await b.send(new Map([[1, [2n, new Date(3)]]]));
    expect(await a.recv()).toEqual(new Map([[1, [2n, new Date(3)]]]));
    expect(await a.poll()).toBe(false);
    a.close();
    b.close();
  });

  it('messages of every size sent in one tick arrive whole and in order (small ones share a write)', async () => {
    const [a, b] = Pipe();
    const sizes = [0, 1, 100, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 40_000, 64 * 1024, 64 * 1024 + 7, 3, 200_000, 5];
    const sent = sizes.map((n, i) => Buffer.alloc(n, i + 1));
    const writes = sent.map((buf, i) => (i % 2 ? a.sendBytes(buf) : a.send(buf.toString('latin1'))));
    for (let i = 0; i < sizes.length; i++) {
      const got = await b.recv();
      const want = Buffer.alloc(sizes[i], i + 1);
      if (i % 2) expect(Buffer.from(got).equals(want)).toBe(true);
      else expect(got).toBe(want.toString('latin1'));
    }
    await Promise.all(writes);
    a.close();
    b.close();
  });

  it('carries our errors as their class, and buffers of any size up to 64 MiB here', async () => {
    const [a, b] = Pipe();
    await a.send(new Empty('none'));
    const e = await b.recv();
    expect(e).toBeInstanceOf(Empty);
    expect(e.message).toBe('none');
    const big = Buffer.alloc(64 * 2 ** 20, 7);
    const sending = a.sendBytes(big);
    const got = await b.recvBytes();
    await sending;
    expect(got.length).toBe(big.length);
    expect(got.equals(big)).toBe(true);
    await a.sendBytes(Buffer.alloc(0));
    expect((await b.recvBytes()).length).toBe(0);
    a.close();
    b.close();
  });

  it('a buffer may be reused once sendBytes has resolved: the message keeps what was sent', async () => {
    const [a, b] = Pipe();
    const received = (async () => {
      const firsts = [];
      for (let i = 1; i <= 3; i++) {
        const got = await b.recvBytes();
        firsts.push([got[0], got[got.length - 1]]);
      }
      return firsts;
    })();
    const buf = Buffer.alloc(4 * 2 ** 20, 1);
    for (let i = 1; i <= 3; i++) {
      buf.fill(i); // reusing the buffer the previous send had
      await a.sendBytes(buf);
    }
    expect(await received).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    a.close();
    b.close();
  });

  it('sendBytes takes offset and size; out-of-range ones throw', async () => {
    const [a, b] = Pipe();
    await a.sendBytes(Buffer.from('hello world'), 6);
    await a.sendBytes(Buffer.from('hello world'), 0, 5);
    await a.sendBytes(new Uint16Array([1, 2]));
    expect((await b.recvBytes()).toString()).toBe('world');
    expect((await b.recvBytes()).toString()).toBe('hello');
    expect((await b.recvBytes()).length).toBe(4);
    expect(() => a.sendBytes(Buffer.alloc(4), 5)).toThrow(RangeError);
    expect(() => a.sendBytes(Buffer.alloc(4), 2, 3)).toThrow(/past the end/);
    expect(() => a.sendBytes(Buffer.alloc(4), -1)).toThrow(RangeError);
    expect(() => a.sendBytes('abc' as any)).toThrow(TypeError);
    a.close();
    b.close();
  });

  it('recvBytes(maxlength) throws for a longer message and closes; recvBytesInto throws BufferTooShort with the whole message', async () => {
    const [a, b] = Pipe();
    await a.sendBytes(Buffer.from('abcdef'));
    const into = Buffer.alloc(10, 0);
    expect(await b.recvBytesInto(into, 2)).toBe(6);
    expect(into.subarray(2, 8).toString()).toBe('abcdef');
    await a.sendBytes(Buffer.from('0123456789'));
    const err = await b.recvBytesInto(Buffer.alloc(4)).catch((e) => e);
    expect(err).toBeInstanceOf(BufferTooShort);
    expect(err.data.toString()).toBe('0123456789');
    await a.sendBytes(Buffer.from('too long'));
    await expect(b.recvBytes(3)).rejects.toThrow(/bad message length/);
    expect(b.closed).toBe(true);
    a.close();
  });

  it('receives waiting together each get a message: one arriving alone goes to one, the other waits on', async () => {
    const [a, b] = Pipe();
    const both = Promise.all([b.recv(), b.recv(), b.recvBytes()]);
    await a.send(1);
    expect(await b.poll(10)).toBe(true); // it arrived: every waiting receive was woken by it
    await a.send(2);
    expect(await b.poll(10)).toBe(true);
    await a.sendBytes(Buffer.from('three'));
    const got = await both;
    expect(got.map(String).sort()).toEqual(['1', '2', 'three']);
    a.close();
    b.close();
  });

  it('refuses an uncloneable value synchronously; the next message arrives intact', async () => {
    const [a, b] = Pipe();
    expect(() => a.send({ f: () => 1 })).toThrow(TypeError);
    expect(() => a.send(Promise.resolve())).toThrow(/cannot be sent/);
    await a.send('intact');
    expect(await b.recv()).toBe('intact');
    a.close();
    b.close();
  });

  it('simplex pipes: the first end only receives, the second only sends', async () => {
    const [r, w] = Pipe(false);
    expect([r.readable, r.writable, w.readable, w.writable]).toEqual([true, false, false, true]);
    expect(() => r.send(1)).toThrow(/only receives/);
    expect(() => w.recv()).toThrow(/only sends/);
    await w.send('one way');
    expect(await r.recv()).toBe('one way');
    r.close();
    w.close();
  });

  it('poll(timeout) waits in seconds; EOF counts as ready; a closed peer gives EOFError once drained', async () => {
    const [a, b] = Pipe();
    expect(await b.poll()).toBe(false);
    expect(await b.poll(0.05)).toBe(false);
    const later = b.poll(null);
    await a.send('x');
    expect(await later).toBe(true);
    expect(await b.recv()).toBe('x');
    await a.send('last');
    a.close();
    expect(await b.poll(5)).toBe(true);
    expect(await b.recv()).toBe('last');
    expect(await b.poll(5)).toBe(true);
    await expect(b.recv()).rejects.toBeInstanceOf(EOFError);
    b.close();
  });

  it('closing one end wakes a pending recv, poll and wait on the other', async () => {
    const [a, b] = Pipe();
    const pending = [b.recv().catch((e) => e), b.poll(null), wait([b])];
    await turn();
    a.close();
    const [recvErr, polled, waited] = await Promise.all(pending);
    expect(recvErr).toBeInstanceOf(EOFError);
    expect(polled).toBe(true);
    expect(waited).toEqual([b]);
    b.close();
  });

  it('for await yields messages until EOF; closed/readable/writable; usage after close throws', async () => {
    const [a, b] = Pipe();
    a.send(1);
    a.send(2);
    await a.send(3);
    a.close();
    const got = [];
    for await (const x of b) got.push(x);
    expect(got).toEqual([1, 2, 3]);
    expect(a.closed).toBe(true);
    expect(() => a.send(1)).toThrow(ProcessError);
    expect(() => a.recv()).toThrow(/closed/);
    b.close();
    b.close();
  });

  it('recv({ signal }) rejects with AbortError and the connection stays usable', async () => {
    const [a, b] = Pipe();
    const ac = new AbortController();
    const pending = b.recv({ signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await a.send('after');
    expect(await b.recv()).toBe('after');
    a.close();
    b.close();
  });

  it('backpressure: a sender nobody reads from waits instead of buffering without bound', async () => {
    const [a, b] = Pipe();
    const chunk = Buffer.alloc(256 * 1024);
    let sent = 0;
    // Send until a send stays pending across an event-loop turn: the kernel and our buffer are full.
    for (;;) {
      const p = a.sendBytes(chunk);
      sent++;
      const blocked = await Promise.race([p.then(() => false), turn().then(() => turn()).then(() => true)]);
      if (blocked) break;
      expect(sent).toBeLessThan(200); // 50 MiB: it must have blocked long before
    }
    expect(sent * chunk.length).toBeLessThan(16 * 2 ** 20);
    for (let i = 0; i < sent; i++) expect((await b.recvBytes()).length).toBe(chunk.length);
    a.close();
    b.close();
  });

  it('is made only by Pipe, Listener and Client; bad arguments are named', () => {
    expect(() => new (Connection as any)()).toThrow(/made by Pipe/);
    expect(() => Pipe('yes' as any)).toThrow(TypeError);
    expect(getContext('spawn').Pipe).toBe(Pipe);
  });
});

describe('Connections in child processes', () => {
  it('the seed example: the child sends [42, null, "hello"]', async () => {
    const [parentConn, childConn] = Pipe();
    const p = new Process({ target: ref('sendSeed'), args: [childConn] });
    p.start();
    expect(await parentConn.recv()).toEqual([42, null, 'hello']);
    await p.join();
    expect(p.exitCode).toBe(0);
    parentConn.close();
    childConn.close();
  });

  it('either end works in the child, even one passed right after Pipe() returned', async () => {
    for (const which of [0, 1]) {
      const ends = Pipe();
      const mine = ends[1 - which];
      const p = new Process({ target: ref('echo'), args: [ends[which]] });
      p.start();
      ends[which].close(); // only the child holds it now
      await mine.send({ n: which });
      expect(await mine.recv()).toEqual({ n: which });
      await mine.send('stop');
      await expect(mine.recv()).rejects.toBeInstanceOf(EOFError);
      await p.join();
      mine.close();
    }
  });

  it("the parent's own copy of the child's end never takes the child's messages", async () => {
    const [mine, childs] = Pipe();
    const p = new Process({ target: ref('echo'), args: [childs] });
    p.start(); // the parent keeps its copy of `childs` open, as Python code often does
    for (let i = 0; i < 20; i++) {
      await mine.send(i);
      expect(await mine.recv()).toBe(i);
    }
    await mine.send('stop');
    await p.join();
    expect(p.exitCode).toBe(0);
    mine.close();
    childs.close();
  });

  it('two siblings talk over a Pipe the parent made, directly: the parent holds no end any more', async () => {
    const [a, b] = Pipe();
    const [report, reportIn] = Pipe();
    const reader = new Process({ target: ref('sumUntilDone'), args: [a, reportIn] });
    const writer = new Process({ target: ref('sendMany'), args: [b, 0] });
    reader.start();
    writer.start();
    a.close();
    b.close();
    reportIn.close();
    expect(await report.recv()).toBe(0);
    await reader.join();
    await writer.join();
    report.close();
  });

  it('nothing sent right before a child exits is lost', async () => {
    const { a, p } = childOnPipe('sendMany', 50_000);
    let n = 0;
    for await (const x of a) {
      if (x === 'done') break;
      expect(x.i).toBe(n++);
    }
    expect(n).toBe(50_000);
    await p.join();
    a.close();
  });

  it('garbage from a peer gives a clear error, not a crash, hang or huge allocation', async () => {
    const { a, p } = childOnPipe('writesGarbage');
    expect(await a.recv()).toBe('before');
    await expect(a.recv()).rejects.toThrow(/not a multiproc message/);
    await p.join();
    a.close();
  });

  // After quick answers a receive reads the socket itself for a moment (see Connection#spin):
  // the same faults must come out the same way on that path.
  for (const [what, expected] of [
    ['garbage', /not a multiproc message/],
    ['die', /in the middle of a message/],
  ] as const) {
    it(`a receive reading the socket itself meets a peer's ${what === 'die' ? 'death mid-message' : 'garbage'} as clearly`, async () => {
      const { a, p } = childOnPipe('echoThenMisbehave');
      await quickAnswers(a);
      await a.send(what);
      await expect(a.recv()).rejects.toThrow(expected);
      await p.join();
      a.close();
    });
  }

  it('a receive waiting on a silent peer costs no CPU, even after quick answers', async () => {
    const { a, p } = childOnPipe('echo');
    await quickAnswers(a);
    const before = process.cpuUsage();
    const reply = a.recv();
    // A window to observe the waiting receive in (not a wait for anything): a spinning one would use all of it.
    await new Promise((r) => setTimeout(r, 300));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(100);
    await a.send('late');
    expect(await reply).toBe('late');
    await a.send('stop');
    await p.join();
    a.close();
  });

  // A big message's rest is read by the receive itself (see Connection#readRest): same outcome.
  for (const length of [1000, 4 * 2 ** 20]) {
    it(`a peer killed in the middle of a ${length}-byte message gives EOFError`, async () => {
      const { a, p } = childOnPipe('diesMidMessage', length);
      expect(await a.recv()).toBe('before');
      await expect(a.recvBytes()).rejects.toThrow(/in the middle of a message/);
      await p.join();
      expect(p.exitCode).toBe(-9);
      a.close();
    });
  }

  it('big and small messages arrive whole and in order, to a reader that keeps up and to one that reads late', async () => {
    const sizes = [2 ** 20, 10, 3 * 2 ** 20 + 7, 64 * 1024 + 1, 0, 2 ** 20, 5 * 2 ** 20, 17];
    const [go, childGo] = Pipe();
    const { a, p } = childOnPipe('sendsBig', childGo, sizes);
    const receiveAll = async () => {
      for (let i = 0; i < sizes.length; i++) {
        const got = await a.recvBytes();
        expect(got.length).toBe(sizes[i]);
        expect(got.equals(Buffer.alloc(sizes[i], i + 1))).toBe(true);
      }
    };
    await receiveAll();
    await go.send('late');
    expect(await go.recv()).toBe('queued');
    await receiveAll();
    await expect(a.recv()).rejects.toThrow(EOFError);
    await p.join();
    expect(p.exitCode).toBe(0);
    a.close();
    go.close();
  });

  it('recvBytesInto takes big and small messages into its buffer, as they come and queued; messages recvBytes receives never share it', async () => {
    const sizes = [2 ** 20, 10, 3 * 2 ** 20 + 7, 64 * 1024 + 1, 0, 2 ** 20, 5 * 2 ** 20, 17];
    const [go, childGo] = Pipe();
    const { a, p } = childOnPipe('sendsBig', childGo, sizes);
    const into = Buffer.alloc(5 * 2 ** 20 + 3);
    const kept: Buffer[] = [];
    const receiveAll = async () => {
      for (let i = 0; i < sizes.length; i++) {
        const expected = Buffer.alloc(sizes[i], i + 1);
        if (i % 2 === 0) {
          expect(await a.recvBytesInto(into, 3)).toBe(sizes[i]);
          expect(into.subarray(3, 3 + sizes[i]).equals(expected)).toBe(true);
        } else {
          const got = await a.recvBytes();
          expect(got.equals(expected)).toBe(true);
          kept.push(got);
        }
      }
    };
    await receiveAll(); // read as they come
    await go.send('late');
    expect(await go.recv()).toBe('queued');
    await receiveAll(); // all queued first
    // Later receives into `into` changed none of the messages received by recvBytes.
    kept.forEach((got, k) => expect(got.equals(Buffer.alloc(sizes[(k % 4) * 2 + 1], (k % 4) * 2 + 2))).toBe(true));
    await p.join();
    a.close();
    go.close();
  });

  it('recvBytesInto and recvBytes waiting together each get a message of their own; a big one too long for the buffer is BufferTooShort, whole', async () => {
    const sizes = [2 ** 20, 2 ** 20, 3 * 2 ** 20];
    const [go, childGo] = Pipe();
    const { a, p } = childOnPipe('sendsBig', childGo, sizes);
    const into = Buffer.alloc(2 ** 20);
    const [n, other] = await Promise.all([a.recvBytesInto(into), a.recvBytes()]);
    expect(n).toBe(2 ** 20);
    // Which receive gets which of the first two is theirs to race for; each gets one, whole.
    const mine = into[0];
    expect([1, 2]).toContain(mine);
    expect(into.equals(Buffer.alloc(2 ** 20, mine))).toBe(true);
    into.fill(9); // ours again: the other receive's message is not in it
    expect(other.equals(Buffer.alloc(2 ** 20, 3 - mine))).toBe(true);
    const err = await a.recvBytesInto(into).catch((e) => e);
    expect(err).toBeInstanceOf(BufferTooShort);
    expect(err.data.equals(Buffer.alloc(3 * 2 ** 20, 3))).toBe(true);
    await go.send('late');
    expect(await go.recv()).toBe('queued');
    for (let i = 0; i < sizes.length; i++) expect((await a.recvBytes()).equals(Buffer.alloc(sizes[i], i + 1))).toBe(true);
    await p.join();
    a.close();
    go.close();
  });

  it('a recvBytesInto given up halfway through a big message leaves the whole message to the next receive', async () => {
    const length = 4 * 2 ** 20;
    const { a, p } = childOnPipe('sendsInHalves', length);
    const into = Buffer.alloc(length);
    const stop = new AbortController();
    expect(await a.recv()).toBe('ready');
    const given = a.recvBytesInto(into, 0, { signal: stop.signal }); // offered before the message starts
    await a.send('go');
    // The first half lands in `into` itself (the child then waits for 'rest').
    // (A deadline against a hang, not a timing.)
    const deadline = performance.now() + 20_000;
    while (into[length / 2 - 1] !== 1) {
      expect(performance.now()).toBeLessThan(deadline);
      await turn();
    }
    stop.abort();
    await expect(given).rejects.toThrow(/abort/i);
    into.fill(0); // ours again
    await a.send('rest');
    const whole = await a.recvBytes();
    expect(whole.length).toBe(length);
    expect(whole.equals(Buffer.alloc(length, 1))).toBe(true);
    expect(await a.recv()).toBe('after');
    await p.join();
    expect(p.exitCode).toBe(0);
    a.close();
  });

  it('a child blocked sending to a reader that dies ends promptly', async () => {
    const run = runNode(fileURLToPath(new URL('./fixtures/parent-dies.mjs', import.meta.url)));
    const child = Number((await run.line(/^child (\d+)$/))[1]);
    await run.line(/^flooded$/); // the child is now waiting for the reader
    run.child.kill('SIGKILL');
    await run.done;
    expect(await whenGone([child], 10_000)).toEqual([]);
  });

  it('wait() takes Connections and sentinels together', async () => {
    const [a, b] = Pipe();
    const [go, goIn] = Pipe();
    const p = new Process({ target: ref('sendsAfter'), args: [b, goIn] });
    p.start();
    b.close();
    goIn.close();
    expect(await wait([a, p.sentinel], 0.05)).toEqual([]);
    await go.send('go');
    expect(await wait([a, p.sentinel])).toContain(a);
    expect(await a.recv()).toBe('late');
    await p.join();
    expect(await wait([a, p.sentinel])).toEqual([a, p.sentinel]); // EOF and ended
    a.close();
    go.close();
  });
});
