// workerpool's worker script (threads or processes) exposing the same tasks.
'use strict';
const workerpool = require('workerpool');

workerpool.worker({
  identity: (x) => x,
  cpuTask: (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += i * i;
    return s;
  },
});
