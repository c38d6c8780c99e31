// Mulberry32, the one seeded generator: reproducible runs (bench --seed, /bytes?seed=) from a 32-bit seed.

/** Each call gives the next unsigned 32-bit number of the sequence `seed` starts. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
