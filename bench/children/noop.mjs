// mp_bench.py's noop target, as an ES module and as CommonJS (noop.cjs): the child imports it.
export function noop() {}
