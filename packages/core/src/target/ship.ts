import { ProcessError } from '@multiproc/errors';
import type * as acorn from 'acorn';

/**
 * Names a shipped function may use without its module: the child provides them. `__name` is the
 * helper TypeScript loaders (tsx, esbuild's keepNames) wrap nested functions in.
 */
export const PROVIDED = ['require', '__filename', '__dirname', '__name'];
export const IMPORT_SHIM = '__multiproc_import';

export interface Shippable {
  source: string;
  /** Set when the source is a method (`f() {}`): the child takes this member of `({ … })`. */
  member: string | null;
}

/**
 * Checks that a function can run from its source alone and returns that source, with its
 * `import()` calls routed through a shim that resolves relative specifiers from the module
 * the function was written in. Throws a ProcessError naming the problem and the fix.
 */
export function prepareSource(fn: Function, what: string): Shippable {
  const text = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    const kind = fn.name.startsWith('bound ') ? 'a bound function' : 'a native function';
    throw new ProcessError(
      `${what} is ${kind}, which cannot run in a child process: a child gets code by importing its module or from its source, ` +
        `and ${kind} has neither. Use an exported function of your own that calls it, e.g. ` +
        `export function work(...args) { return obj.method(...args) }.`,
    );
  }
  const { parse } = require('acorn') as typeof import('acorn');
  let program: any;
  let member: string | null = null;
  let prefix = '(';
  try {
    program = parse(`(${text})`, { ecmaVersion: 'latest', sourceType: 'script', ranges: true });
  } catch {
    // A method (`run() {}`, `async *gen() {}`) is only valid inside an object literal.
    prefix = '({';
    try {
      program = parse(`({${text}})`, { ecmaVersion: 'latest', sourceType: 'script', ranges: true });
      member = program.body[0].expression.properties[0]?.key?.name ?? null;
    } catch (err) {
      throw new ProcessError(`${what} cannot be shipped to the child by its source (${(err as Error).message}); export it from its module instead.`);
    }
    if (member === null) throw new ProcessError(`${what} cannot be shipped to the child by its source; export it from its module instead.`);
  }
  const free = freeNames(program).filter((n) => !PROVIDED.includes(n) && !(n in globalThis));
  if (free.length) {
    const names = free.map((n) => `'${n}'`).join(', ');
    throw new ProcessError(
      `${what} reads ${names} from an enclosing scope, which does not exist in the child process ` +
        `(the function is not exported, so it is sent by its source alone). Fix it either way:\n` +
        `  1. export the function from its module: the child then imports that module, as Python's spawn ` +
        `re-imports __main__, and the function may use the module's imports and top-level state ` +
        `(keep the module's start-up code behind a main-module guard); or\n` +
        `  2. make it self-contained: import what it needs inside it, e.g. const { ${free[0]} } = await import('…').`,
    );
  }
  const imports: number[] = [];
  let usesMeta = false;
  const walk = require('acorn-walk') as typeof import('acorn-walk');
  walk.full(program, (node: any) => {
    if (node.type === 'ImportExpression') imports.push(node.start - prefix.length);
    if (node.type === 'MetaProperty' && node.meta.name === 'import') usesMeta = true;
  });
  if (usesMeta) {
    throw new ProcessError(`${what} uses import.meta, which only a module has; export the function from its module so the child imports it.`);
  }
  let source = text;
  for (const at of imports.sort((a, b) => b - a)) source = source.slice(0, at) + IMPORT_SHIM + source.slice(at + 'import'.length);
  return { source, member };
}

/** The names a program reads without declaring them, by scope analysis (not by regex). */
function freeNames(program: acorn.Node): string[] {
  const { analyze } = require('eslint-scope') as typeof import('eslint-scope');
  const manager = analyze(program as any, { ecmaVersion: 2022, sourceType: 'script' } as any);
  const global = manager.globalScope!;
  return [...new Set(global.through.map((ref) => ref.identifier.name))];
}
