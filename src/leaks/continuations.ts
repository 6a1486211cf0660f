/**
 * Joins string literals continued over several lines, so that a key written as
 * `"sk-ant-api03-abc…" +⏎ "…xyzAA"` (JS, Java, PHP `.`, VB `&`, Python's implicit concatenation)
 * or cut by a backslash-newline reads as one token again.
 */
const JOIN = /(?:["'`][ \t]*(?:\+|\.|&|\\)?[ \t]*\r?\n[ \t]*(?:\+|\.|&)?[ \t]*["'`])|(?:\\\r?\n[ \t]*)/g;

export interface JoinedText {
  text: string;
  toOriginal(joinedOffset: number): number;
  crossesJoin(start: number, end: number): boolean;
}

export function joinContinuations(text: string): JoinedText | null {
  JOIN.lastIndex = 0;
  if (!JOIN.test(text)) return null;
  JOIN.lastIndex = 0;
  // Segment i of the joined text starts at joinedStarts[i] and came from originalStarts[i].
  const joinedStarts: number[] = [0];
  const originalStarts: number[] = [0];
  let out = "";
  let from = 0;
  for (let m = JOIN.exec(text); m; m = JOIN.exec(text)) {
    out += text.slice(from, m.index);
    from = m.index + m[0].length;
    joinedStarts.push(out.length);
    originalStarts.push(from);
  }
  out += text.slice(from);
  const segmentOf = (j: number): number => {
    let lo = 0;
    let hi = joinedStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (joinedStarts[mid]! <= j) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
  return {
    text: out,
    toOriginal: (j) => {
      const s = segmentOf(j);
      return originalStarts[s]! + (j - joinedStarts[s]!);
    },
    crossesJoin: (start, end) => segmentOf(start) !== segmentOf(end - 1),
  };
}
