// Fails when the TypeScript files under the given folders (default: src) of the package in the
// current directory import each other in a cycle. Type-only imports count: they do not run, but a
// file in a cycle cannot be read, tested or moved alone (CPython keeps process.py free of any
// popen or util import for that reason). eslint-plugin-import-x's no-cycle skips `import type`,
// so this walks the files with the TypeScript compiler instead. Run by each package's `lint`.
//
//   node ../../scripts/no-import-cycles.mjs src test
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const ts = createRequire(import.meta.url)('typescript');

const root = process.cwd();
const dirs = process.argv.length > 2 ? process.argv.slice(2) : ['src'];
const files = dirs.flatMap((d) => sources(resolve(root, d)));
const known = new Set(files);
const options = {
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  noEmit: true,
};

function sources(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(p);
    return /\.(ts|tsx|mts|cts)$/.test(e.name) ? [p] : [];
  });
}

/** Every module a file names: imports and re-exports (type-only too), require(), import(), `typeof import()`. */
function specifiers(file) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = [];
  const add = (lit, typeOnly) => {
    if (lit && ts.isStringLiteralLike(lit)) out.push({ spec: lit.text, line: sf.getLineAndCharacterOfPosition(lit.getStart()).line + 1, typeOnly });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : [];
      add(node.moduleSpecifier, !!c && (c.isTypeOnly || (!c.name && named.length > 0 && named.every((e) => e.isTypeOnly))));
    } else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** file → [{ to, line, typeOnly }], for imports of the files scanned (packages and node: modules are not). */
const graph = new Map();
for (const file of files) {
  const edges = [];
  for (const s of specifiers(file)) {
    const to = ts.resolveModuleName(s.spec, file, options, ts.sys).resolvedModule?.resolvedFileName;
    if (to && known.has(resolve(to))) edges.push({ ...s, to: resolve(to) });
  }
  graph.set(file, edges);
}

/** Tarjan's strongly connected components: each one of more than one file (or a file importing itself) is a cycle. */
function cycles() {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const strongConnect = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v)) {
      if (!idx.has(to)) {
        strongConnect(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)));
    }
    if (low.get(v) !== idx.get(v)) return;
    const scc = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || graph.get(v).some((e) => e.to === v)) found.push(scc.sort());
  };
  for (const f of [...graph.keys()].sort()) if (!idx.has(f)) strongConnect(f);
  return found;
}

/** The shortest way from `start` back to itself inside `scc`, as the imports taken. */
function shortestLoop(start, scc) {
  const inside = new Set(scc);
  const via = new Map();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const e of graph.get(queue[i])) {
      if (!inside.has(e.to) || via.has(e.to)) continue;
      via.set(e.to, { from: queue[i], edge: e });
      if (e.to === start) {
        const path = [];
        for (let at = start; path.length === 0 || at !== start; at = via.get(at).from) path.unshift(via.get(at));
        return path;
      }
      queue.push(e.to);
    }
  }
  return [];
}

const rel = (f) => relative(root, f);
const found = cycles();
if (found.length > 0) {
  const where = relative(resolve(root, '../..'), root) || '.';
  console.error(`${where}: ${found.length} import cycle${found.length > 1 ? 's' : ''} (type-only imports count: a file in a cycle cannot be read alone)`);
  for (const scc of found) {
    const inside = new Set(scc);
    const loop = shortestLoop(scc[0], scc);
    console.error(`\n  ${scc.length} files: ${scc.map(rel).join(', ')}`);
    console.error(`  shortest loop: ${[...loop.map((s) => `${rel(s.from)}:${s.edge.line}`), rel(scc[0])].join(' -> ')}`);
    console.error('  every import between them (cut one per loop):');
    for (const f of scc) {
      for (const e of graph.get(f)) if (inside.has(e.to)) console.error(`    ${rel(f)}:${e.line} -> ${rel(e.to)}${e.typeOnly ? ' (type only)' : ''}`);
    }
  }
  process.exit(1);
}
