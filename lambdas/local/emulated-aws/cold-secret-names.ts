// Local engine, emulated AWS: which secret names the local Secrets Manager (secrets-manager-service.ts) keeps
// only in the store, answered in fixed memory. A name is hashed to one of a fixed number of counters:
// a zero counter proves the name is not there (a new delivery's CreateSecret, a runtime polling before
// its delivery exists: no store read), a non-zero one means "read the store", which is then right
// (another name in the same bucket costs one read, never a wrong answer).

/** 65,536 counters of 16 bits: 128 KiB, whatever the number of names; thousands of names leave most counters at zero. */
const BUCKET_BITS = 16;
const SATURATED = 0xffff;

/** FNV-1a over the name's UTF-16 code units: cheap, and spread enough for names that differ in a suffix. */
function bucketOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ (hash >>> BUCKET_BITS)) & ((1 << BUCKET_BITS) - 1);
}

/** A counting filter of names: no false "absent", a few false "maybe", and fixed memory. */
export class ColdSecretNames {
  private readonly counts = new Uint16Array(1 << BUCKET_BITS);
  private names = 0;

  add(name: string): void {
    const bucket = bucketOf(name);
    const count = this.counts[bucket] ?? 0;
    // A saturated counter stays so (never decremented): its names always cost a read, none is ever missed.
    if (count < SATURATED) this.counts[bucket] = count + 1;
    this.names++;
  }

  /** Only for a name added before and not removed since. */
  remove(name: string): void {
    const bucket = bucketOf(name);
    const count = this.counts[bucket] ?? 0;
    if (count === 0) throw new Error('a secret name was taken from the cold names without having been added');
    if (count < SATURATED) this.counts[bucket] = count - 1;
    this.names--;
  }

  /** False: the name is certainly not among them. True: it may be; read the store. */
  mayHave(name: string): boolean {
    return this.counts[bucketOf(name)] !== 0;
  }

  /** How many names were added and not removed. */
  get size(): number {
    return this.names;
  }
}
