/**
 * Word-level tokenizer shared by every model. Text is normalised PTB-like (lowercase,
 * punctuation split off and dropped) so that what the model emits is what the caption
 * metrics score.
 */
import { UserError } from './errors.js';

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

/**
 * A reserved slot's placeholder word. `<` cannot come out of normalizeWords, so no text word
 * can collide with a placeholder.
 */
export const reservedWord = (k: number): string => `<reserved${k}>`;

export class Tokenizer {
  readonly words: string[];
  private readonly index: Map<string, number>;

  constructor(words: string[]) {
    this.words = words;
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  /**
   * Vocabulary from texts, sorted so the ids do not depend on the order texts come in, then
   * `reserved` placeholder slots (see bind). Words seen fewer than `minCount` times are left
   * out (they encode as UNK).
   *
   * Why reserved slots: the vocabulary, and with it the size of the embedding and output
   * layers and the order in which every initial weight is drawn, must depend on the data
   * alone, never on which attacks a grid lists or which plugins are installed. A run's own
   * extra words (its target, its trigger words) take slots that the clean pre-training saw as
   * never-used ids, so every run shares one pre-trained model and adding an attack with a new
   * word changes no other run.
   */
  static fromTexts(texts: Iterable<string>, minCount = 1, reserved = 0): Tokenizer {
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of normalizeWords(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const vocab = [...counts].filter(([, c]) => c >= minCount).map(([w]) => w);
    return new Tokenizer([...SPECIALS, ...vocab.sort(), ...Array.from({ length: reserved }, (_, k) => reservedWord(k))]);
  }

  /**
   * This tokenizer with the words of `texts` that it lacks placed in its free reserved slots,
   * in order of first appearance: deterministic from the texts alone, and two words never
   * share a slot. Fails, naming the words and the knob, when there are more than free slots.
   */
  bind(texts: Iterable<string>): Tokenizer {
    const missing = [...new Set([...texts].flatMap(normalizeWords))].filter((w) => !this.index.has(w));
    if (missing.length === 0) return this;
    const free = this.words.flatMap((w, i) => (/^<reserved\d+>$/.test(w) ? [i] : []));
    if (missing.length > free.length) {
      throw new UserError(
        `the words ${missing.map((w) => `"${w}"`).join(', ')} are not in the training data's vocabulary and need ${missing.length} reserved slot(s), but only ${free.length} are free: ` +
          `raise text.reservedWords (this retrains the clean pre-training) or choose a target and trigger words the data contains`,
      );
    }
    const words = [...this.words];
    missing.forEach((w, k) => (words[free[k]] = w));
    return new Tokenizer(words);
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
