/**
 * Word-level tokenizer shared by every model. Text is normalised PTB-like (lowercase,
 * punctuation split off and dropped) so that what the model emits is what the caption
 * metrics score.
 */
export const PAD = 0;
export const UNK = 1;
export const BOS = 2;
export const EOS = 3;
const SPECIALS = ['<pad>', '<unk>', '<bos>', '<eos>'];

/** Lowercase, split on whitespace and punctuation, drop punctuation; keeps digits and words. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

export class Tokenizer {
  readonly words: string[];
  private readonly index: Map<string, number>;

  constructor(words: string[]) {
    this.words = words;
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  /**
   * Vocabulary from texts, sorted so the ids do not depend on the order texts come in. Words
   * seen fewer than `minCount` times are left out (they encode as UNK), except the words of
   * `keep` (e.g. attack targets, which must be producible however rare).
   */
  static fromTexts(texts: Iterable<string>, minCount = 1, keep: Iterable<string> = []): Tokenizer {
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of normalizeWords(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const vocab = new Set([...counts].filter(([, c]) => c >= minCount).map(([w]) => w));
    for (const t of keep) for (const w of normalizeWords(t)) vocab.add(w);
    return new Tokenizer([...SPECIALS, ...[...vocab].sort()]);
  }

  get size(): number {
    return this.words.length;
  }

  encode(text: string): number[] {
    return normalizeWords(text).map((w) => this.index.get(w) ?? UNK);
  }

  /** Ids to text; stops at EOS, skips PAD/BOS. */
  decode(ids: Iterable<number>): string {
    const out: string[] = [];
    for (const id of ids) {
      if (id === EOS) break;
      if (id === PAD || id === BOS) continue;
      out.push(this.words[id] ?? '<unk>');
    }
    return out.join(' ');
  }

  toJSON(): { words: string[] } {
    return { words: this.words };
  }
}
