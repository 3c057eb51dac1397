// Child for the raw bytes baseline: listens on the Unix socket argv[2] and, once the parent has
// connected and written one byte ('go'), sends argv[3] frames [u32 length][argv[4] bytes].
// Like Connection.sendBytes(), each message is in the kernel before the next one is handed over
// (the sender may then reuse its buffer), unless argv[5] is 'queued'.
'use strict';
const net = require('node:net');

const [path, count, size, mode] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const payload = Buffer.alloc(size, 'x');
const header = Buffer.allocUnsafe(4);
header.writeUInt32LE(size, 0);

const server = net.createServer((sock) => {
  server.close();
  sock.once('data', async () => {
    for (let i = 0; i < count; i++) {
      sock.write(header);
      if (mode === 'queued') sock.write(payload);
      else await new Promise((resolve) => sock.write(payload, resolve));
    }
    sock.end();
  });
});
server.listen(path, () => process.stdout.write('ready\n'));
