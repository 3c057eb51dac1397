/**
 * Every error class carries a registered-symbol brand, and `instanceof` checks the brand, not the
 * prototype chain: so `instanceof` holds across two copies of this package (two installed
 * versions, or a bundled copy) and for errors rebuilt after crossing a process boundary.
 */
export function brandOf(name: string): symbol {
  return Symbol.for(`multiproc.error.${name}`);
}

/** Gives `cls` its `name` (on the prototype, non-enumerable), its brand, and a brand-based `instanceof`. */
export function defineErrorClass(cls: abstract new (...args: any[]) => Error, name: string): void {
  const brand = brandOf(name);
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(cls.prototype, brand, { value: true, enumerable: false });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      // A user's subclass inherits this static: it gets the ordinary prototype-chain check.
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && (value as any)[brand] === true;
    },
  });
}
