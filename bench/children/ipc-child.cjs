// Child for the built-in IPC baseline (child_process.fork): echo, or send `count` small messages on 'go'.
'use strict';
const [mode, count] = [process.argv[2], Number(process.argv[3])];
process.send('ready');
process.on('message', (msg) => {
  if (mode === 'pong') {
    if (msg === null) process.disconnect();
    else process.send(msg);
  } else if (msg === 'go') {
    // The parent disconnects once it has them all: disconnecting here could drop queued messages.
    for (let i = 0; i < count; i++) process.send({ i, s: 'hello' });
  }
});
