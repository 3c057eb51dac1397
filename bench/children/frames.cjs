// [u32 length][payload] frames over a raw socket: the "what Node itself can do" line.
'use strict';

function frame(payload) {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/**
 * Calls onFrame(payload) for every complete frame in the chunks fed to it. Chunks of a large
 * frame are kept in a list and joined once, when the frame is complete.
 */
function reader(onFrame) {
  let chunks = [];
  let buffered = 0;
  let need = 4; // bytes until the next header or payload is complete
  let payloadLength = -1;
  return (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    while (buffered >= need) {
      let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
      let off = 0;
      while (buf.length - off >= need) {
        if (payloadLength < 0) {
          payloadLength = buf.readUInt32LE(off);
          off += 4;
          need = payloadLength;
        } else {
          onFrame(buf.subarray(off, off + payloadLength));
          off += payloadLength;
          payloadLength = -1;
          need = 4;
        }
      }
      chunks = off < buf.length ? [buf.subarray(off)] : [];
      buffered = buf.length - off;
      if (buffered < need) break;
    }
  };
}

module.exports = { frame, reader };
