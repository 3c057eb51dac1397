/**
 * How a child finds the code to run: the same shapes are written by the parent (describe.ts) and
 * read by the child (load.ts), so this file is all they share.
 * @internal
 */
export type TargetSpec =
  /** No target: run() does nothing. */
  | { kind: 'none' }
  /** Import `url` in the child and take its export `name` ('' for a CommonJS module.exports). */
  | { kind: 'export'; url: string; name: string; format: 'esm' | 'cjs'; what: string }
  /** A module reference whose specifier the child resolves (a package name, say). */
  | { kind: 'specifier'; specifier: string; base: string | null; name: string }
  /**
   * A function shipped by its source. `url` is where it was written (or null): its relative
   * `import()`s and `require()`s resolve from there, as they would have in the parent.
   */
  | { kind: 'source'; source: string; member: string | null; url: string | null; what: string };
