/** Sharding by a stable hash of `instance` (FNV-1a, 32 bits): the same instance always lands on the same replica. */
export function instanceHash(instance: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < instance.length; i++) {
    h ^= instance.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether `instance` belongs to shard `index` of `total`. */
export function inShard(instance: string, total: number, index: number): boolean {
  return total <= 1 || instanceHash(instance) % total === index;
}
