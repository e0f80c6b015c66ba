/**
 * A user-facing error: bad config, unreadable input. The CLI prints its message alone on one
 * line (no stack), so the message must name the field/file/value and say how to fix it.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Edit distance with adjacent transpositions (optimal string alignment), for suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known word nearest to `word`, if near enough to be a typo (at most a third of its letters off). */
export function closest(word: string, known: string[]): string | undefined {
  const scored = known.map((k) => [k, distance(word.toLowerCase(), k.toLowerCase())] as const).sort((a, b) => a[1] - b[1]);
  return scored.length && scored[0][1] <= Math.max(1, Math.floor(word.length / 3)) ? scored[0][0] : undefined;
}

/** " (did you mean "x"?)" for a near miss among `known`, else ''. */
export function didYouMean(word: string, known: string[]): string {
  const near = closest(word, known);
  return near ? ` (did you mean "${near}"?)` : '';
}
