// Child for the raw-socket baseline: fd 3 is a socket (an extra stdio 'pipe'); argv[2] says what to do.
'use strict';
const net = require('node:net');
const v8 = require('node:v8');
const { frame, reader } = require('./frames.cjs');

const [mode, count, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const sock = new net.Socket({ fd: 3, readable: true, writable: true });
sock.write(frame(v8.serialize('ready')));
sock.on(
  'data',
  reader((payload) => {
    const msg = v8.deserialize(payload);
    if (mode === 'pong') {
      if (msg === null) sock.end();
      else sock.write(frame(payload));
    } else if (msg === 'go') {
      if (mode === 'small') {
        // batched: many frames per write, as a buffered sender would
        let batch = [];
        for (let i = 0; i < count; i++) {
          batch.push(frame(v8.serialize({ i, s: 'hello' })));
          if (batch.length === 1000) {
            sock.write(Buffer.concat(batch));
            batch = [];
          }
        }
        if (batch.length) sock.write(Buffer.concat(batch));
      }
      sock.end();
    }
  }),
);
