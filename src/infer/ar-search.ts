// Greedy and beam search for the autoregressive counterpart (docs/model.md §10.3), independent of the engine:
// a stepper (eager libtorch: src/eager/ar-stepper.ts, synchronous; onnxruntime: src/infer/ar-runner.ts,
// asynchronous) runs one decoder step for many rows (hypotheses) at once, each continuing a row of the previous
// step, and returns their next-token log-probabilities. Each search is written once, as a generator that yields
// the step it needs and receives its log-probabilities; search() and searchAsync() drive it. Batched: the rows of
// every utterance still searching go into one step; an utterance leaves the batch when it is done.
//
// Beam search follows fairseq's SequenceGenerator: per utterance the top 2K continuations of its live
// hypotheses; those ending in </s> among the first K are finished, with the score normalised by the length
// (tokens + </s>)^α (α = 1, fairseq's lenpen); the first K others stay live. An utterance is done when K
// hypotheses are finished, or at its maximum length, where </s> is the only continuation. The result is the
// finished hypothesis of the best normalised score. At the first step an utterance has one live hypothesis.
import { EOS_ID } from "../model/token-ids.ts";

/**
 * One decoder step for several rows: row n feeds `tokens[n]` at `position`, continues row `parent[n]` of the
 * previous step (its self-attention cache) and belongs to utterance `source[n]`. At position 0 `parent` is
 * 0..rows−1 over an empty cache.
 */
export interface StepRequest {
  tokens: Int32Array;
  parent: Int32Array;
  source: Int32Array;
  position: number;
}

/** Log-probabilities (rows × V, row-major) of the next token of each row of a StepRequest. */
export interface DecoderStepper {
  readonly vocabSize: number;
  step(request: StepRequest): Float32Array;
}

export interface AsyncDecoderStepper {
  readonly vocabSize: number;
  step(request: StepRequest): Promise<Float32Array>;
}

/** A search: yields the steps it needs, receives their log-probabilities, returns one hypothesis per utterance. */
type Search = Generator<StepRequest, Hypothesis[], Float32Array>;

function drive(run: Search, stepper: DecoderStepper): Hypothesis[] {
  for (let r = run.next(); ; ) {
    if (r.done) return r.value;
    r = run.next(stepper.step(r.value));
  }
}

/** Greedy search for beam ≤ 1, else beam search (module comment), on a synchronous stepper. */
export function search(stepper: DecoderStepper, maxLengths: readonly number[], beam: number): Hypothesis[] {
  return drive(beam <= 1 ? greedySteps(stepper.vocabSize, maxLengths) : beamSteps(stepper.vocabSize, maxLengths, beam, 1), stepper);
}

/** search() on an asynchronous stepper (onnxruntime). */
export async function searchAsync(stepper: AsyncDecoderStepper, maxLengths: readonly number[], beam: number): Promise<Hypothesis[]> {
  const run = beam <= 1 ? greedySteps(stepper.vocabSize, maxLengths) : beamSteps(stepper.vocabSize, maxLengths, beam, 1);
  for (let r = run.next(); ; ) {
    if (r.done) return r.value;
    r = run.next(await stepper.step(r.value));
  }
}

export interface Hypothesis {
  /** Token ids without the final </s>. */
  tokens: number[];
  /** Σ log p of the tokens and the final </s>. */
  score: number;
  /** score / (tokens + 1)^α: what beam search ranks by (greedy: score / (tokens + 1)). */
  normalized: number;
}

/** Greedy search: the most likely token at each step until </s>, or </s> forced at maxLengths[b] tokens. */
export function greedySearch(stepper: DecoderStepper, maxLengths: readonly number[]): Hypothesis[] {
  return drive(greedySteps(stepper.vocabSize, maxLengths), stepper);
}

function* greedySteps(V: number, maxLengths: readonly number[]): Search {
  const results: Hypothesis[] = new Array(maxLengths.length);
  let active = maxLengths.map((_, b) => ({ source: b, row: b, tokens: [] as number[], score: 0 }));
  for (let t = 0; active.length > 0; t++) {
    const logp: Float32Array = yield {
      tokens: Int32Array.from(active, (a) => a.tokens.at(-1) ?? EOS_ID),
      parent: Int32Array.from(active, (a) => a.row),
      source: Int32Array.from(active, (a) => a.source),
      position: t,
    };
    const next: typeof active = [];
    active.forEach((a, n) => {
      let best = EOS_ID;
      if (t < maxLengths[a.source]!) for (let v = 0; v < V; v++) if (logp[n * V + v]! > logp[n * V + best]!) best = v;
      const score = a.score + logp[n * V + best]!;
      if (best === EOS_ID) results[a.source] = { tokens: a.tokens, score, normalized: score / (a.tokens.length + 1) };
      else next.push({ source: a.source, row: n, tokens: [...a.tokens, best], score });
    });
    active = next;
  }
  return results;
}

interface Candidate {
  score: number;
  /** Row of the step's output it extends. */
  row: number;
  token: number;
}

/** The `n` best (row, token) continuations of `rows` by score + log p, best first (ties: the earlier row and token). */
function topContinuations(logp: Float32Array, V: number, rows: { row: number; score: number }[], n: number, eosOnly: boolean): Candidate[] {
  const best: Candidate[] = [];
  const consider = (c: Candidate) => {
    if (best.length === n && c.score <= best[n - 1]!.score) return;
    let i = best.length < n ? best.length : n - 1;
    if (best.length < n) best.push(c);
    while (i > 0 && best[i - 1]!.score < c.score) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = c;
  };
  for (const { row, score } of rows) {
    if (eosOnly) consider({ score: score + logp[row * V + EOS_ID]!, row, token: EOS_ID });
    else for (let v = 0; v < V; v++) consider({ score: score + logp[row * V + v]!, row, token: v });
  }
  return best;
}

/** Beam search of width `beam` (see the module comment); `lengthPenalty` is α. */
export function beamSearch(stepper: DecoderStepper, maxLengths: readonly number[], beam: number, lengthPenalty = 1): Hypothesis[] {
  return drive(beamSteps(stepper.vocabSize, maxLengths, beam, lengthPenalty), stepper);
}

function* beamSteps(V: number, maxLengths: readonly number[], beam: number, lengthPenalty: number): Search {
  if (!Number.isInteger(beam) || beam < 1) throw new Error(`beam search: the beam must be a positive integer, got ${beam}`);
  const results: Hypothesis[] = new Array(maxLengths.length);
  const finished: Hypothesis[][] = maxLengths.map(() => []);
  // Live hypotheses per utterance still searching; `row` is where each sits in the last step's rows.
  type Live = { row: number; tokens: number[]; score: number };
  let active: { source: number; live: Live[] }[] = maxLengths.map((_, b) => ({ source: b, live: [{ row: b, tokens: [], score: 0 }] }));
  for (let t = 0; active.length > 0; t++) {
    const rows = active.flatMap((a) => a.live.map((h) => ({ source: a.source, h })));
    const logp: Float32Array = yield {
      tokens: Int32Array.from(rows, (r) => r.h.tokens.at(-1) ?? EOS_ID),
      parent: Int32Array.from(rows, (r) => r.h.row),
      source: Int32Array.from(rows, (r) => r.source),
      position: t,
    };
    let offset = 0;
    const next: typeof active = [];
    for (const a of active) {
      const here = a.live.map((h, k) => ({ row: offset + k, score: h.score }));
      const atMax = t >= maxLengths[a.source]!;
      const candidates = topContinuations(logp, V, here, 2 * beam, atMax);
      const done = finished[a.source]!;
      const live: Live[] = [];
      candidates.forEach((c, rank) => {
        const parent = a.live[c.row - offset]!;
        if (c.token === EOS_ID) {
          if (rank < beam) done.push({ tokens: parent.tokens, score: c.score, normalized: c.score / (parent.tokens.length + 1) ** lengthPenalty });
        } else if (live.length < beam) {
          live.push({ row: c.row, tokens: [...parent.tokens, c.token], score: c.score });
        }
      });
      offset += a.live.length;
      if (atMax || done.length >= beam || live.length === 0) {
        results[a.source] = done.reduce((x, y) => (y.normalized > x.normalized ? y : x));
      } else {
        next.push({ source: a.source, live });
      }
    }
    active = next;
  }
  return results;
}
