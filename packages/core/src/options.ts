/**
 * The TypeError for options a call does not take, in one shape everywhere: `rest` is what is left
 * of the options object once the known ones are taken out (`const { a, b, ...rest } = options`).
 */
export function refuseUnknownOptions(rest: object, known: readonly string[], what: string): void {
  const unknown = Object.keys(rest);
  if (unknown.length === 0) return;
  const list = known.length === 1 ? `the only option is ${known[0]}` : `the options are ${known.slice(0, -1).join(', ')} and ${known[known.length - 1]}`;
  throw new TypeError(`${what}: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; ${list}`);
}
