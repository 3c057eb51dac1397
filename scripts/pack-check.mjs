// `npm run pack-check` (after `npm run build`): proves each package works as published, not as it
// sits in the workspace. Every package under packages/ is packed with `npm pack` and installed
// alone (with only the tarballs of its own @multiproc/* dependencies; the rest comes from the npm
// registry) into an empty directory, where it is
//   - required from a .cjs file and imported from an .mjs file: both give every name the built
//     dist/index.js exports, which are exactly the names README.md's package table lists, and the
//     same objects, whichever loads first;
//   - likewise for its `./internal` subpath, if it has one (what the packages share and users must
//     not see), which must hand out the objects of the main bundle, not a second copy of them;
//   - type-checked from an .mts and a .cts file (node16 resolution): `import` and `require` give
//     the same declarations, so a class from one is assignable to the same class from the other;
//   - for the packages with files of their own loaded at run time (core's child entry and target
//     check, queue's broker thread, pool's worker loop, the umbrella's copies of them, native's
//     binary in prebuilds/, shared's and sync's objects reaching a child), run once; the umbrella
//     also traced, its trace printed by its installed `multiproc` command.
// One line per package; exit status 1 with what is wrong on any failure. Temp dirs are removed.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const require = createRequire(join(root, 'package.json'));
const tsc = require.resolve('typescript/bin/tsc');
const typeRoots = join(root, 'node_modules', '@types');
const CONCURRENCY = 3;

// npm run sets npm_config_local_prefix and friends to this repo: an npm started with them would
// install into the repo, not the temp dir. Keep only what says how to reach the registry.
const KEEP = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy|strict_ssl)$/i;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || KEEP.test(k)));
delete env.INIT_CWD;

class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};

/** The packages under packages/, in the workspaces' order (dependencies first). */
const dirs = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces.filter((w) => w.startsWith('packages/'));
const pkgs = dirs.map((dir) => ({ dir, json: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }));
const byName = new Map(pkgs.map((p) => [p.json.name, p]));

/** A package and its @multiproc/* dependencies, transitively. */
function closure(name, into = new Set()) {
  if (into.has(name)) return into;
  into.add(name);
  for (const dep of Object.keys(byName.get(name).json.dependencies ?? {})) if (byName.has(dep)) closure(dep, into);
  return into;
}

/** The names README.md's package table lists for each package ("everything above" for the umbrella). */
function readmeNames() {
  const out = new Map();
  const all = new Set();
  for (const line of readFileSync(join(root, 'README.md'), 'utf8').split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!m || !byName.has(m[1])) continue;
    const names = [...m[2].matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((x) => x[1]);
    if (!names.length && /everything above/.test(m[2])) {
      // "everything above but `@multiproc/x`": the packages the row names are left out.
      const except = new Set([...m[2].matchAll(/`(@[^`]+)`/g)].flatMap((x) => out.get(x[1]) ?? []));
      names.push(...[...all].filter((n) => !except.has(n)));
    }
    names.forEach((n) => all.add(n));
    out.set(m[1], names);
  }
  return out;
}

/** What a package's built dist/<entry>.js exports. */
function distNames(p, entry = 'index') {
  const file = join(root, p.dir, 'dist', `${entry}.js`);
  if (!existsSync(file)) fail(`${p.dir}/dist/${entry}.js is missing: run \`npm run build\` first`);
  return Object.keys(require(file)).filter((n) => n !== 'default' && n !== '__esModule').sort();
}

/**
 * Subpaths built as bundles of their own, which is sound only for code without state: core's
 * node-internals (functions over Node's socket internals, which the queue's broker thread bundles
 * at build time instead of loading all of core).
 */
const STATELESS = new Set(['./node-internals']);

/** A package's subpaths besides its main entry and the stateless ones (`./internal`), as specifiers. */
const subpaths = (p) =>
  Object.keys(p.json.exports ?? {})
    .filter((k) => k !== '.' && k !== './package.json' && !STATELESS.has(k))
    .map((k) => p.json.name + k.slice(1));

// Each prints { keys, differ } as JSON: its export names, and the names whose value from the other
// module system is another object. The .cjs also checks the umbrella hands out its packages' objects.
const loadCjs = (name, deps, internal) => `
const cjs = require(${JSON.stringify(name)});
import(${JSON.stringify(name)}).then((esm) => {
  const keys = Object.keys(cjs).filter((k) => k !== '__esModule').sort();
  const differ = [...new Set([...keys, ...Object.keys(esm)])].filter((k) => esm[k] !== cjs[k]);
  const copies = [];
  for (const dep of ${JSON.stringify(deps)}) {
    const d = require(dep);
    for (const k of Object.keys(d)) if (k in cjs && cjs[k] !== d[k]) copies.push(dep + '.' + k);
  }
  const main = require(${JSON.stringify(name)})[Symbol.for('multiproc.internal')];
  const internal = ${JSON.stringify(internal)} && require(${JSON.stringify(internal)});
  console.log(JSON.stringify({ keys, differ, copies, internalCopied: Boolean(internal) && internal !== main }));
});
`;
const loadEsm = (name) => `
import { createRequire } from 'node:module';
import * as esm from ${JSON.stringify(name)};
const cjs = createRequire(import.meta.url)(${JSON.stringify(name)});
const keys = Object.keys(esm).sort();
const differ = [...new Set([...keys, ...Object.keys(cjs).filter((k) => k !== '__esModule')])].filter((k) => esm[k] !== cjs[k]);
console.log(JSON.stringify({ keys, differ }));
`;

// Declarations: the namespace seen by `import` and by `require` must be one type, both ways (for the
// main entry and ./internal).
const typesCts = (names) =>
  names
    .map(
      (name, i) => `
import type * as esm${i} from ${JSON.stringify(name)} with { 'resolution-mode': 'import' };
import type * as cjs${i} from ${JSON.stringify(name)} with { 'resolution-mode': 'require' };
export const fromEsm${i}: typeof cjs${i} = null! as typeof esm${i};
export const fromCjs${i}: typeof esm${i} = null! as typeof cjs${i};
`,
    )
    .join('');
const typesMts = (names) =>
  names
    .map(
      (name, i) => `
import * as esm${i} from ${JSON.stringify(name)};
export const names${i}: string[] = Object.keys(esm${i});
`,
    )
    .join('');
const tsconfig = {
  compilerOptions: {
    module: 'node16',
    moduleResolution: 'node16',
    target: 'es2022',
    lib: ['es2023'],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [typeRoots],
  },
  files: ['types.cts', 'types.mts'],
};

// A short run of what a plain load does not reach.
const SMOKE = {
  // The tarball carries this platform's binary and loads it from the installed package, not the workspace.
  '@multiproc/native': `
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { closeSync, ftruncateSync } from 'node:fs';
import * as native from '@multiproc/native';
if (native.loadError()) throw native.loadError();
const require = createRequire(import.meta.url);
const binary = require('node-gyp-build').path(dirname(require.resolve('@multiproc/native/package.json')));
if (!binary.startsWith(process.cwd())) throw new Error('the binary was loaded from outside the install: ' + binary);
const fd = native.anonymous();
ftruncateSync(fd, 4096);
const view = new Int32Array(native.map(fd, 4096));
closeSync(fd);
Atomics.add(view, 0, 2);
if (native.wait(view, 0, 2, 1) !== 'timed-out' || native.wait(view, 0, 0, 1) !== 'not-equal') throw new Error('wait() misbehaves');
native.unmap(view.buffer);
`,
  // A child maps the parent's unnamed segment through /proc, and a named one by its name.
  '@multiproc/shared': `
import { Process } from '@multiproc/core';
import { RawArray, SharedMemory } from '@multiproc/shared';
const a = RawArray('d', 3);
const p = new Process({ target: (arr) => { arr[1] = 42; }, args: [a] });
p.start();
await p.join();
if (p.exitCode !== 0 || a[1] !== 42) throw new Error('the child did not write the shared array: ' + [...a]);
const shm = new SharedMemory({ create: true, size: 10 });
shm.buf[0] = 7;
if (new SharedMemory({ name: shm.name }).buf[0] !== 7) throw new Error('attach by name failed');
shm.close();
shm.unlink();
`,
  // A lock and an event cross to a child: the child sleeps on the lock the parent holds, is woken
  // by its release (the addon's wait and wake across processes), then sets the event.
  '@multiproc/sync': `
import { Process } from '@multiproc/core';
import { Event, Lock } from '@multiproc/sync';
const lock = new Lock();
const event = new Event();
await lock.acquire();
const p = new Process({
  target: async (lock, event) => {
    if (!(await lock.acquire(true, 20))) process.exit(3);
    lock.release();
    event.set();
  },
  args: [lock, event],
});
p.start();
setTimeout(() => lock.release(), 200);
if (!(await event.wait(30))) throw new Error('the child did not set the event');
await p.join();
if (p.exitCode !== 0) throw new Error('the child ended with exit code ' + p.exitCode);
if (!(await lock.acquire(false))) throw new Error('the lock is still taken after the child released it');
lock.release();
`,
  '@multiproc/core': `
import { Process } from '@multiproc/core';
// A function that is not exported goes by its source: acorn, acorn-walk and eslint-scope check it.
const p = new Process({ target: (n) => { if (n !== 2) process.exit(3); }, args: [2] });
p.start();
await p.join();
if (p.exitCode !== 0) throw new Error('the child ended with exit code ' + p.exitCode);
`,
  '@multiproc/queue': `
import { Queue } from '@multiproc/queue';
const q = new Queue();
await q.put([42, null, 'hello']);
const got = JSON.stringify(await q.get());
if (got !== '[42,null,"hello"]') throw new Error('the queue gave back ' + got);
q.close();
await q.joinThread();
`,
  // The umbrella's code starts children, workers and the broker thread from files of its own.
  // Traced, and the trace rendered by the installed \`multiproc\` command (its "bin").
  multiproc: `
import { execFileSync } from 'node:child_process';
import { Pool, Process, Queue, startTrace, stopTrace } from 'multiproc';
startTrace('trace.json');
const q = new Queue();
const p = new Process({ target: async (q) => { await q.put('from the child'); }, args: [q] });
p.start();
const line = await q.get();
await p.join();
if (line !== 'from the child' || p.exitCode !== 0) throw new Error('the child gave ' + line + ', exit code ' + p.exitCode);
const pool = new Pool(1);
const got = (await pool.map((x) => x * 2, [1, 2, 3])).join();
if (got !== '2,4,6') throw new Error('pool.map gave ' + got);
pool.close();
await pool.join();
await stopTrace();
const timeline = execFileSync('node_modules/.bin/multiproc', ['trace', 'trace.json', '--width', '80'], { encoding: 'utf8' });
if (!/^Process-2 \\(pid \\d+\\) +\\|/m.test(timeline)) throw new Error('multiproc trace printed ' + timeline);
`,
  '@multiproc/pool': `
import { Pool } from '@multiproc/pool';
const pool = new Pool(1);
const got = (await pool.map((x) => x * 2, [1, 2, 3])).join();
if (got !== '2,4,6') throw new Error('pool.map gave ' + got);
pool.close();
await pool.join();
`,
};

async function node(dir, file) {
  try {
    const { stdout } = await run(process.execPath, [file], { cwd: dir, env, timeout: 30_000 });
    return stdout;
  } catch (err) {
    fail(`node ${file}: ${excerpt(err.stderr || err.stdout || err.message)}`);
  }
}

const diff = (a, b) => a.filter((x) => !b.includes(x));

/** The telling lines of a child's output: from the error's message on, when there is one. */
function excerpt(text, lines = 6) {
  const all = String(text).trim().split('\n').filter((l) => !/^\s+at /.test(l));
  const at = all.findIndex((l) => /^\s*(\w*Error|error TS\d+)\b/.test(l) || /error TS\d+/.test(l));
  return all.slice(Math.max(at, 0), Math.max(at, 0) + lines).join('\n  ');
}

async function check(p, tarballs, expectedByReadme, tmp) {
  const name = p.json.name;
  const expected = distNames(p);
  const listed = expectedByReadme.get(name) ?? fail(`README.md's package table has no row for \`${name}\``);
  const missingFromDist = diff(listed, expected);
  if (missingFromDist.length) fail(`README.md lists names the built dist does not export: ${missingFromDist.join(', ')}`);
  // Internals belong on ./internal: a name README does not list is one users would come to rely on.
  const unlisted = diff(expected, listed);
  if (unlisted.length) fail(`the built dist exports names README.md's table does not list: ${unlisted.join(', ')}`);

  const dir = join(tmp, name.replace('/', '+'));
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pack-check', private: true }));
  const own = [...closure(name)];
  try {
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', dir, ...own.map((n) => tarballs.get(n))], {
      cwd: dir,
      env,
      timeout: 120_000,
    });
  } catch (err) {
    fail(`npm install of its tarball${own.length > 1 ? 's' : ''} failed: ${excerpt(err.stderr || err.message)}`);
  }

  const [internal = null, ...others] = subpaths(p);
  if (others.length || (internal && internal !== `${name}/internal`)) fail(`unexpected subpaths in "exports": ${[internal, ...others].join(', ')}`);
  // The packages it re-exports must hand out their own objects (the umbrella holds the addon, which it does not re-export).
  const source = readFileSync(join(root, p.dir, 'src', 'index.ts'), 'utf8');
  const reexported = own.filter((n) => n !== name && source.includes(`export * from '${n}'`));
  writeFileSync(join(dir, 'load.cjs'), loadCjs(name, reexported, internal));
  writeFileSync(join(dir, 'load.mjs'), loadEsm(name));
  const fromCjs = JSON.parse(await node(dir, 'load.cjs'));
  const fromEsm = JSON.parse(await node(dir, 'load.mjs'));
  const problems = [];
  const compare = (what, expected, fromCjs, fromEsm) => {
    const sets = { 'require()': fromCjs.keys, import: fromEsm.keys };
    for (const [how, keys] of Object.entries(sets)) {
      const missing = diff(expected, keys);
      const extra = diff(keys, expected);
      if (missing.length) problems.push(`${how}${what} lacks ${missing.join(', ')}`);
      if (extra.length) problems.push(`${how}${what} also gives ${extra.join(', ')}, which the built dist does not export`);
    }
    const differ = [...new Set([...fromCjs.differ, ...fromEsm.differ])];
    if (differ.length) problems.push(`import and require()${what} give different objects for ${differ.join(', ')}`);
  };
  compare('', expected, fromCjs, fromEsm);
  if (fromCjs.copies.length) problems.push(`it exports copies, not its dependencies' own objects: ${fromCjs.copies.join(', ')}`);
  if (internal) {
    writeFileSync(join(dir, 'internal.cjs'), loadCjs(internal, [], null));
    writeFileSync(join(dir, 'internal.mjs'), loadEsm(internal));
    compare(` of ${internal}`, distNames(p, 'internal'), JSON.parse(await node(dir, 'internal.cjs')), JSON.parse(await node(dir, 'internal.mjs')));
    if (fromCjs.internalCopied) problems.push(`${internal} is not what the main entry attached: a second copy of its modules`);
  }
  if (problems.length) fail(problems.join('; '));

  const specifiers = internal ? [name, internal] : [name];
  writeFileSync(join(dir, 'types.cts'), typesCts(specifiers));
  writeFileSync(join(dir, 'types.mts'), typesMts(specifiers));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  try {
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir, env, timeout: 60_000 });
  } catch (err) {
    fail(`its types do not check (tsc, node16): ${excerpt(err.stdout || err.message)}`);
  }

  let ran = '';
  if (SMOKE[name]) {
    writeFileSync(join(dir, 'smoke.mjs'), SMOKE[name]);
    await node(dir, 'smoke.mjs');
    ran = ', ran';
  }
  const deps = own.length > 1 ? ` (with ${own.length - 1} @multiproc tarball${own.length > 2 ? 's' : ''})` : '';
  const sub = internal ? ` (./internal: ${distNames(p, 'internal').length}, the main bundle's)` : '';
  return `${expected.length} names${sub} from .cjs and .mjs, same objects, types agree${ran}${deps}`;
}

const started = Date.now();
const tmp = mkdtempSync(join(tmpdir(), 'multiproc-pack-check-'));
const cleanup = () => rmSync(tmp, { recursive: true, force: true });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(1);
  });
}

let failed = 0;
try {
  const readme = readmeNames();
  for (const p of pkgs) distNames(p); // a missing build is one message, not six
  const packDir = join(tmp, 'tarballs');
  mkdirSync(packDir);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir, ...dirs.flatMap((d) => ['--workspace', d])], {
    cwd: root,
    env,
  });
  const tarballs = new Map(JSON.parse(stdout).map((t) => [t.name, join(packDir, t.filename)]));

  const results = new Array(pkgs.length);
  let next = 0;
  const worker = async () => {
    while (next < pkgs.length) {
      const i = next++;
      const t0 = Date.now();
      try {
        results[i] = { ok: true, text: await check(pkgs[i], tarballs, readme, tmp), ms: Date.now() - t0 };
      } catch (err) {
        if (!(err instanceof Failure)) throw err;
        results[i] = { ok: false, text: err.message, ms: Date.now() - t0 };
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  for (const [i, r] of results.entries()) {
    const name = pkgs[i].json.name.padEnd(18);
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${name} ${r.text} [${(r.ms / 1000).toFixed(1)} s]`);
    if (!r.ok) failed++;
  }
} catch (err) {
  console.error(`pack-check: ${err instanceof Failure ? err.message : err.stack}`);
  failed = -1;
} finally {
  cleanup();
}
if (failed > 0) console.error(`pack-check: ${failed} of ${pkgs.length} packages failed`);
else if (failed === 0) console.log(`pack-check: all ${pkgs.length} packages as published work (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed === 0 ? 0 : 1);
