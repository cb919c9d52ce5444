// Adapter helper (local engine): the values this process last wrote, by key, so that it need not
// read back what it just wrote. Bounded: past `capacity` keys the least recently written is
// forgotten, and a forgotten key only costs the read it would have cost anyway.
export class LastWritten<T> {
  private readonly values = new Map<string, T>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
  }

  remember(key: string, value: T): void {
    // Deleted first so the key moves to the end of the Map's order: the oldest write goes first.
    this.values.delete(key);
    this.values.set(key, value);
    if (this.values.size > this.capacity) {
      const oldest = this.values.keys().next();
      if (!oldest.done) this.values.delete(oldest.value);
    }
  }

  recall(key: string): T | undefined {
    return this.values.get(key);
  }

  forget(key: string): void {
    this.values.delete(key);
  }

  get size(): number {
    return this.values.size;
  }
}
