// Reversal by user-perceived character (extended grapheme cluster), so accents,
// flags and emoji ZWJ sequences survive: "héllo 👩‍👩‍👧" -> "👩‍👩‍👧 olléh".

// One segmenter for the process: constructing one is far costlier than using it.
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function reverseGraphemes(text: string): string {
  const clusters: string[] = [];
  for (const { segment } of segmenter.segment(text)) clusters.push(segment);
  return clusters.reverse().join("");
}
