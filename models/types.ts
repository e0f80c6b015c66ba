/** The plugin boundary between the harness and a model family. */
import type { tf } from '../harness/core/engine.js';
import type { Params } from './params.js';

export interface ModelConfig {
  /** Registry id of the family: 'llava' | 'blip2' | 'flamingo' (models/registry.ts). */
  family: string;
  imageSize: number;
  /** Patch side in pixels; the visual grid is (imageSize/patch)². */
  patch: number;
  /**
   * Visual token merge factor m: each m×m block of neighbouring patch tokens is concatenated
   * and projected to one token before the LM (Qwen2-VL's merger / InternVL's pixel shuffle),
   * so the LM sees (grid/m)² visual tokens. 1 = LLaVA-1.5's one token per patch.
   * llava and flamingo (its cross-attention keys); blip2's Q-Former reads every patch token.
   */
  merge: number;
  width: number;
  heads: number;
  encoderLayers: number;
  decoderLayers: number;
  mlpRatio: number;
  vocabSize: number;
  /** Maximum text length (prompt + BOS + response + EOS). */
  maxText: number;
  seed: number;
  /** blip2: learned query tokens of the Q-Former = the LM's visual prefix length. Default 8. */
  queries?: number;
  /** blip2: Q-Former layers (query self-attention, cross-attention to the patches, MLP). Default 2. */
  qformerLayers?: number;
  /** flamingo: a gated cross-attention layer before LM blocks 0, k, 2k, …. Default 1 (every block). */
  crossEvery?: number;
}

export interface MultimodalModel {
  readonly config: ModelConfig;
  readonly params: Params;
  /**
   * Teacher-forced forward pass.
   * images: [B,H,W,3] float in [0,1]; tokens: [B,L] int32 (L ≤ maxText).
   * Returns next-token logits [B,L,V] at every text position.
   */
  forward(images: tf.Tensor4D, tokens: tf.Tensor2D): tf.Tensor3D;
  /** Visual features the defenses may inspect (e.g. NAD's attention maps): [B, N, width]. */
  encodeImage(images: tf.Tensor4D): tf.Tensor3D;
  /**
   * The same teacher-forced pass as `forward` (same logits), also returning the hidden states
   * the feature-level defenses inspect: NAD's attention maps, fine-pruning's dormant neurons.
   * Slower than `forward`; optional for a family. With `attention`, also the text's attention to
   * the visual tokens (BYE's and CleanSight's maps).
   */
  forwardWithFeatures?(images: tf.Tensor4D, tokens: tf.Tensor2D, opts?: { attention?: boolean }): ModelFeatures;
  /** Parameter names of the last LM block's MLP (the layer fine-pruning prunes); with forwardWithFeatures. */
  readonly lastMlp?: MlpParamNames;
  /**
   * Greedy decoding without recomputation: the image is encoded once and each LM block keeps a
   * key/value cache. Gives the logits `forward` gives at the same positions. Optional: decoding
   * falls back to repeated `forward` passes.
   * `prune` [B, N] (1 = pruned, N = the visual tokens of `VisualAttention`) removes visual tokens
   * from the LM's view: no position attends to them in any LM layer (CleanSight's purification).
   * The caller keeps ownership of `prune`.
   */
  startDecoding?(images: tf.Tensor4D, prune?: tf.Tensor2D): IncrementalDecoder;
  /** The adapter between the vision tower and the LM (what RobustIT tunes). */
  readonly adapter?: AdapterParamNames;
}

/**
 * The vision–language adapter: llava's projector, blip2's Q-Former and projection, flamingo's
 * visual projection and gated cross-attention layers.
 */
export interface AdapterParamNames {
  /** Every parameter of the adapter. */
  params: string[];
  /** The weight [dIn, width] whose column c makes channel c of `encodeImage`'s output. */
  outW: string;
}

/**
 * One LM layer's attention from the text to the image, per head. llava and blip2: the part of
 * the LM's self-attention rows on the visual prefix (projected patches; blip2's queries), with
 * `text` the rest of each row; flamingo: its gated cross-attention, a softmax over the visual
 * tokens alone, so no `text` share exists.
 */
export interface VisualAttention {
  /** [B, heads, L, N]: each text position's attention probability on each visual token. */
  visual: tf.Tensor4D;
  /** [B, heads, L]: each text position's total attention on the text (prefix models only). */
  text?: tf.Tensor3D;
}

/** A decoding session over one batch of images (models/causalLm.ts). */
export interface IncrementalDecoder {
  /**
   * Feeds tokens [B,n] after those already fed and returns their next-token logits [B,n,V]:
   * first the prompt (n ≥ 1), then one token per call. The caller disposes the logits.
   * Prompts of different lengths go in one batch left-padded: `pad[r]` (first call only) is row
   * r's count of leading padding columns, which no position attends to; each row keeps its own
   * positions, so its logits are those of its prompt alone.
   */
  step(tokens: tf.Tensor2D, pad?: number[]): tf.Tensor3D;
  /** Frees the caches and the encoded image. */
  dispose(): void;
}

export interface ModelFeatures {
  /** Next-token logits [B,L,V], as `forward`. */
  logits: tf.Tensor3D;
  /**
   * Output hidden states of every LM block, first to last: [B, S, width] over the LM's whole
   * sequence, S = the LM's sequence length, the L text positions last (llava and blip2: a visual
   * prefix, then the text; flamingo: S = L, its LM sees the image only through cross-attention).
   */
  blocks: tf.Tensor3D[];
  /** Hidden activations of the last LM block's MLP after its non-linearity: [B, S, hidden]. */
  mlpHidden: tf.Tensor3D;
  /** With `{ attention: true }`: every LM layer that reads the image, first to last. */
  attention?: VisualAttention[];
}

/**
 * An MLP y = act(x·fcW + fcB)·projW + projB with `hidden` neurons: hidden neuron j owns column j
 * of fcW ([width, hidden]), entry j of fcB ([hidden]) and row j of projW ([hidden, width]).
 */
export interface MlpParamNames {
  fcW: string;
  fcB: string;
  projW: string;
  hidden: number;
}

export type ModelFactory = (config: ModelConfig) => MultimodalModel;

/** A model family plugin: what models/registry.ts discovers in a models/ file. */
export interface ModelFamily {
  id: string;
  description: string;
  create: ModelFactory;
}
