/** A FIFO with O(1) shift (Array#shift is O(n) on large arrays). */
export class Fifo<V> {
  #items: V[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(v: V): void {
    this.#items.push(v);
  }
  peek(): V | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }
  shift(): V | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const v = this.#items[this.#head];
    this.#items[this.#head++] = undefined!;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return v;
  }
  /** Puts `v` back at the front (rare: items given back). */
  unshift(v: V): void {
    if (this.#head > 0) this.#items[--this.#head] = v;
    else this.#items.unshift(v);
  }
  drain(): V[] {
    const vs = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return vs;
  }
}
