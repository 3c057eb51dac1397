import type { Session } from 'node:inspector';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as acorn from 'acorn';

/**
 * Finds the module that defines a function and the name it is exported under, synchronously,
 * so `start()` can decide before spawning. V8's inspector gives the function's
 * `[[FunctionLocation]]`; the module's source (as V8 ran it, so after any TypeScript loader)
 * is parsed to see whether the function at that spot is exported.
 */
export interface Located {
  url: string;
  /** The export name, '' for CommonJS `module.exports` itself; null when not exported. */
  exportName: string | null;
  format: 'esm' | 'cjs';
}

let session: Session | null | undefined;
const scriptUrls = new Map<string, string>();
const exportsCache = new Map<string, ModuleExports | null>();

function getSession(): Session | null {
  if (session !== undefined) return session;
  try {
    const { Session } = require('node:inspector') as typeof import('node:inspector');
    session = new Session();
    session.connect();
    session.on('Debugger.scriptParsed', (m) => scriptUrls.set(m.params.scriptId, m.params.url));
  } catch {
    session = null; // a Node built without the inspector: every function is shipped by source
  }
  return session;
}

/** Posts to the in-process inspector, whose answers arrive synchronously. */
function post<T>(s: Session, method: string, params?: object): T {
  let result: T | undefined;
  let error: Error | null = null;
  s.post(method, params, (err, res) => {
    error = err;
    result = res as T;
  });
  if (error) throw error;
  return result as T;
}

export function locate(fn: Function): Located | null {
  const s = getSession();
  if (!s) return null;
  const key = Symbol.for('multiproc.locate');
  (globalThis as any)[key] = fn;
  let loc: { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
  try {
    const { result } = post<any>(s, 'Runtime.evaluate', { expression: "globalThis[Symbol.for('multiproc.locate')]" });
    const props = post<any>(s, 'Runtime.getProperties', { objectId: result.objectId, ownProperties: true });
    loc = props.internalProperties?.find((p: any) => p.name === '[[FunctionLocation]]')?.value?.value;
    post(s, 'Runtime.releaseObject', { objectId: result.objectId });
  } finally {
    delete (globalThis as any)[key];
  }
  if (!loc) return null;
  if (!scriptUrls.has(loc.scriptId)) {
    // Enabling the debugger reports every script loaded so far; it is switched off again at once.
    post(s, 'Debugger.enable');
    post(s, 'Debugger.disable');
  }
  const raw = scriptUrls.get(loc.scriptId);
  if (!raw) return null;
  const url = raw.startsWith('/') ? pathToFileURL(raw).href : raw;
  if (!url.startsWith('file:')) return null;

  const cjs = commonJsExport(url, fn);
  if (cjs !== undefined) return { url, exportName: cjs, format: 'cjs' };

  let exp = exportsCache.get(loc.scriptId);
  if (exp === undefined) {
    let source: string;
    try {
      source = post<any>(s, 'Debugger.getScriptSource', { scriptId: loc.scriptId }).scriptSource;
    } catch {
      post(s, 'Debugger.enable');
      try {
        source = post<any>(s, 'Debugger.getScriptSource', { scriptId: loc.scriptId }).scriptSource;
      } finally {
        post(s, 'Debugger.disable');
      }
    }
    exp = parseModuleExports(source);
    exportsCache.set(loc.scriptId, exp);
  }
  if (!exp) return { url, exportName: null, format: 'esm' };
  return { url, exportName: exp.exportNameAt(offsetOf(exp.source, loc.lineNumber, loc.columnNumber)), format: 'esm' };
}

/** A CommonJS module's exports can be searched by identity: `require.cache` holds them. */
function commonJsExport(url: string, fn: Function): string | undefined {
  let file: string;
  try {
    file = fileURLToPath(url);
  } catch {
    return undefined;
  }
  const mod = require.cache[file];
  if (!mod) return undefined;
  const exp = mod.exports;
  if (exp === fn) return '';
  if (exp && typeof exp === 'object') {
    for (const k of Object.keys(exp)) if (exp[k] === fn) return k;
  }
  return undefined;
}

function offsetOf(source: string, line: number, column: number): number {
  let offset = 0;
  for (let i = 0; i < line; i++) offset = source.indexOf('\n', offset) + 1;
  return offset + column;
}

interface ModuleExports {
  source: string;
  exportNameAt(offset: number): string | null;
}

type Node = acorn.Node & Record<string, any>;
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassDeclaration', 'ClassExpression']);

function parseModuleExports(source: string): ModuleExports | null {
  const { parse } = require('acorn') as typeof import('acorn');
  const walk = require('acorn-walk') as typeof import('acorn-walk');
  let program: Node;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true }) as Node;
  } catch {
    return null;
  }
  // Top-level bindings and the names they are exported under.
  const exported = new Map<string, string>();
  let defaultNode: Node | null = null;
  for (const stmt of program.body as Node[]) {
    if (stmt.type === 'ExportNamedDeclaration') {
      const decl = stmt.declaration as Node | null;
      if (decl?.id) exported.set(decl.id.name, decl.id.name);
      for (const d of decl?.declarations ?? []) if (d.id.type === 'Identifier') exported.set(d.id.name, d.id.name);
      if (!stmt.source) for (const sp of stmt.specifiers) exported.set(sp.local.name, sp.exported.name ?? sp.exported.value);
    } else if (stmt.type === 'ExportDefaultDeclaration') {
      const decl = stmt.declaration as Node;
      if (decl.type === 'Identifier') exported.set(decl.name, 'default');
      else defaultNode = decl;
    }
  }
  return {
    source,
    exportNameAt(offset) {
      // The innermost function or class whose head holds the location V8 reported.
      let found: { node: Node; ancestors: Node[] } | null = null;
      walk.fullAncestor(program, (node: any, _state: unknown, ancestors: any[]) => {
        if (!FUNCTIONS.has(node.type) || offset < node.start || offset > node.body.start) return;
        if (!found || node.start >= found.node.start) found = { node, ancestors: ancestors.slice() };
      });
      if (!found) return null;
      let { node, ancestors } = found as { node: Node; ancestors: Node[] };
      // TypeScript loaders (tsx, esbuild's keepNames) wrap functions as __name(fn, "name"): see through it.
      ancestors = ancestors.filter((a) => !(a.type === 'CallExpression' && a.callee.type === 'Identifier' && a.callee.name === '__name'));
      // A class constructor is reported at `constructor(`: the class is what is exported.
      const parent = ancestors[ancestors.length - 2];
      if (parent?.type === 'MethodDefinition' && parent.kind === 'constructor') {
        const cls = ancestors[ancestors.length - 4];
        if (cls) {
          node = cls;
          ancestors = ancestors.slice(0, -3);
        }
      }
      if (node === defaultNode) return 'default';
      const up = ancestors[ancestors.length - 2];
      const upup = ancestors[ancestors.length - 3];
      const top = (n: Node | undefined) => n?.type === 'Program' || n?.type === 'ExportNamedDeclaration' || n?.type === 'ExportDefaultDeclaration';
      let binding: string | null = null;
      if ((node.type === 'FunctionDeclaration' || node.type === 'ClassDeclaration') && top(up)) binding = node.id?.name ?? null;
      else if (up?.type === 'VariableDeclarator' && up.id.type === 'Identifier' && top(ancestors[ancestors.length - 4]) && upup?.type === 'VariableDeclaration')
        binding = up.id.name;
      if (up?.type === 'ExportDefaultDeclaration') return 'default';
      return binding !== null ? (exported.get(binding) ?? null) : null;
    },
  };
}
