// Builds the addon from src/native.c with the system C compiler and the headers of the
// node-api-headers package: offline, no node-gyp, no Python, well under a second. Writes
// prebuilds/<platform>-<arch>/@multiproc+native[.<libc>].node, the name node-gyp-build looks for
// (its libc tag is "glibc" or "musl" on Linux; it takes musl only where /etc/alpine-release exists,
// or when LIBC=musl is set). Skips the compile when the binary is newer than the source and this script.
//
// Run by the root package.json's "postinstall" (so a fresh clone has it after `npm ci`) and by the
// package's "build" (so `turbo run build` and `npm test` always see a fresh one). The release
// workflow (.github/workflows/native-prebuilds.yml) runs it on each platform.
//
//   node scripts/build.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const pkg = resolve(import.meta.dirname, '..');
const source = join(pkg, 'src', 'native.c');
const libc = process.platform !== 'linux' ? null : process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const out = join(pkg, 'prebuilds', `${process.platform}-${process.arch}`, `@multiproc+native${libc ? `.${libc}` : ''}.node`);

const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);
if (!process.argv.includes('--force') && mtime(out) > Math.max(mtime(source), mtime(import.meta.filename))) process.exit(0);

let include;
try {
  include = createRequire(join(pkg, 'package.json'))('node-api-headers').include_dir;
} catch {
  console.error('@multiproc/native: the node-api-headers package is missing: run `npm install` first');
  process.exit(1);
}
const cc = process.env.CC || 'cc';
const flags = ['-std=c11', '-O2', '-fPIC', '-shared', '-fvisibility=hidden', '-Wall', '-Wextra', '-Wno-unused-parameter', '-I', include];
// Node's napi_* symbols resolve against the running node at load time: Linux allows undefined
// symbols in a shared object by default; macOS must be told.
if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
else flags.push('-pthread');
// -s strips symbols (tens of KB to a few); Apple's ld strips with -Wl,-x.
flags.push(process.platform === 'darwin' ? '-Wl,-x' : '-s');

mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
try {
  execFileSync(cc, [...flags, '-o', tmp, source], { stdio: 'inherit' });
} catch (err) {
  console.error(`@multiproc/native: compiling ${source} with \`${cc}\` failed (${err.message.split('\n')[0]}).`);
  console.error('A C compiler is needed to build the addon in the monorepo (users install prebuilt binaries).');
  process.exit(1);
}
// A rename, so a process loading the binary meanwhile never sees half a file.
renameSync(tmp, out);
console.log(`@multiproc/native: built ${out.slice(pkg.length + 1)}`);
