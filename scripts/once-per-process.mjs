// Wraps the package's dist/index.js (in the current directory) so that it runs once per process
// and version: the first evaluation registers its exports under globalThis[Symbol.for(
// 'multiproc.packages')]['<name>@<version>'], and any later one (this file loaded again, or the
// copy of the same code inside the umbrella's one-file bundle, see scripts/umbrella-bundle.mjs)
// hands out those exports instead of defining every class a second time. Only line 1 ("use
// strict") is extended and lines are added at the end, so dist/index.js.map still holds.
//
// It also escapes the few non-ASCII characters esbuild leaves in comments: one of them makes Node
// read the whole file into a two-byte string, UTF-8 decoded, and V8 scan that (~0.7 M instructions
// of core's load). An escape is the same character anywhere else (strings, regular expressions);
// the packages use no String.raw.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const MARK = '/* multiproc: once per process */';
const HEAD = '"use strict";\n';
const REGISTRY =
  "globalThis[Symbol.for('multiproc.packages')] ?? Object.defineProperty(globalThis, Symbol.for('multiproc.packages'), { value: Object.create(null) })[Symbol.for('multiproc.packages')]";

export function guard(text, key) {
  if (text.includes(MARK)) return text;
  if (!text.startsWith(HEAD)) throw new Error('dist/index.js does not start with "use strict"');
  const lines = text.slice(HEAD.length).split('\n');
  const map = lines.at(-1).startsWith('//# sourceMappingURL=') ? lines.pop() : null;
  const open = `"use strict";${MARK}const __once = ${REGISTRY}, __key = ${JSON.stringify(key)};if (__once[__key]) module.exports = __once[__key];else (function () {`;
  const close = '__once[__key] = module.exports;})();';
  return ascii([open, ...lines, close, ...(map ? [map] : [])].join('\n'));
}

/** `text` with every non-ASCII character as its \u escape. */
export function ascii(text) {
  return text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'));
  const file = resolve('dist', 'index.js');
  writeFileSync(file, guard(readFileSync(file, 'utf8'), `${name}@${version}`));
}
