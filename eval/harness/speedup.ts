// `nast bench speedup`: the paper's claim, "comparable BLEU at 5.67x the speed of the autoregressive
// counterpart" (CTC-NAST, ACL 2023), measured on our models. The same utterances of a prepared split (the feature
// store of `nast prep`, utterance CMVN as in training) go through CTC-NAST (greedy CTC) and its autoregressive
// counterpart (greedy and beam search). Timed is the model alone (network and search, fairseq's sentences/s),
// not reading the features; the speed-up is a throughput ratio. Two settings (Helcl et al., NAACL 2022: NAR
// speed-ups shrink at large batches and on CPUs): onnxruntime at batch 1, where users translate, and libtorch
// batched by frames as the authors' recipe decodes (50,000 frames per batch, one GPU). Utterances are grouped by
// the length of their reference translation first, and batched within a group, so that the speed-up can be read
// against the target length. BLEU of each system with sacreBLEU's paired bootstrap test against AR beam search.
// The AR model's encoder pass is timed alone too: CTC-NAST contains the same acoustic encoder, so AR's time over
// that pass is the ceiling of any speed-up a non-autoregressive decoder can give on this machine.
import { join } from "node:path";
import { utteranceCmvn } from "../../src/audio/cmvn.ts";
import { batchesByFrames } from "../../src/data/batching.ts";
import { openFeatureStore } from "../../src/data/feature-store.ts";
import type { Features } from "../../src/infer/batch-runner.ts";
import { SentencePiece } from "../../src/text/sentencepiece.ts";
import { InputError } from "../../src/util/errors.ts";
import { Bleu } from "../metrics/bleu.ts";
import { DEFAULT_SEED, pairedBootstrap } from "../metrics/significance.ts";

/** A pair of engines for the two models: each call translates one padded batch into token ids (no </s>, no blanks). */
export interface SpeedupEngine {
  readonly name: string;
  nast(batch: readonly Features[]): Promise<number[][]>;
  ar(batch: readonly Features[], beam: number): Promise<number[][]>;
  /** The AR model's encoder pass alone (acoustic encoder, source CTC, the cross-attention keys and values). */
  arEncoder(batch: readonly Features[]): Promise<void>;
  release(): Promise<void>;
}

export interface SpeedupOptions {
  dataDir: string;
  split: string;
  /** Frames per batch, padding included; 0: one utterance per batch. */
  batchFrames: number;
  beam: number;
  /** The first N utterances of the split only. */
  limit: number | null;
  /** Upper bounds (tokens) of the reference-length groups; the last group is open. */
  lengthEdges: number[];
  /** Bootstrap resamples of the paired test. */
  bootstrap: number;
}

export interface SystemResult {
  name: string;
  seconds: number;
  sentencesPerSecond: number;
  bleu: number;
  /** 95% bootstrap half-width. */
  ci: number;
  /** Paired bootstrap p-value against the baseline (AR beam); null for the baseline. */
  pValue: number | null;
  /** Mean hypothesis length in tokens. */
  meanTokens: number;
}

export interface LengthGroup {
  /** Reference translation tokens, e.g. "11-20" or "41+". */
  tokens: string;
  utterances: number;
  seconds: Record<string, number>;
  /** Seconds of each AR system / seconds of NAST. */
  speedup: Record<string, number>;
}

export interface SpeedupReport {
  setting: { engine: string; split: string; utterances: number; frames: number; audioSeconds: number; batch: string; beam: number };
  systems: SystemResult[];
  /** AR seconds / NAST seconds, by AR system. */
  speedup: Record<string, number>;
  /** Seconds of the AR model's encoder pass alone, on the same batches. */
  arEncoderSeconds: number;
  /**
   * AR seconds / the AR encoder's seconds, by AR system: the largest speed-up over that system that any
   * non-autoregressive model containing this acoustic encoder could reach here, were all its other work free.
   */
  ceiling: Record<string, number>;
  byLength: LengthGroup[];
  signature: string;
  hyps: Record<string, string[]>;
  refs: string[];
}

interface Group {
  label: string;
  batches: number[][];
}

function groupByLength(refTokens: number[], frames: number[], opts: SpeedupOptions): Group[] {
  const edges = opts.lengthEdges;
  const members: number[][] = Array.from({ length: edges.length + 1 }, () => []);
  refTokens.forEach((n, i) => {
    const g = edges.findIndex((e) => n <= e);
    members[g === -1 ? edges.length : g]!.push(i);
  });
  return members.flatMap((idx, g) => {
    if (idx.length === 0) return [];
    const label = g === edges.length ? `${edges.at(-1)! + 1}+` : `${g === 0 ? 1 : edges[g - 1]! + 1}-${edges[g]}`;
    const batches =
      opts.batchFrames === 0 ? idx.map((i) => [i]) : batchesByFrames(idx.map((i) => Math.min(frames[i]!, opts.batchFrames)), opts.batchFrames, 0, 0).map((b) => b.map((k) => idx[k]!));
    return [{ label, batches }];
  });
}

export async function measureSpeedup(engine: SpeedupEngine, opts: SpeedupOptions): Promise<SpeedupReport> {
  const dir = join(opts.dataDir, opts.split);
  const store = openFeatureStore(dir);
  const spm = SentencePiece.load(join(opts.dataDir, "spm.model"));
  const n = opts.limit === null ? store.size : Math.min(opts.limit, store.size);
  if (n === 0) throw new InputError(dir, "holds no utterances");
  const items: Features[] = [];
  const refs: string[] = [];
  const refTokens: number[] = [];
  let audioSeconds = 0;
  for (let i = 0; i < n; i++) {
    const it = store.item(i);
    items.push({ feats: utteranceCmvn(it.feats, it.frames, 80), frames: it.frames });
    const m = store.meta(i);
    refs.push(m.tgt);
    refTokens.push(m.tgtIds.length);
    audioSeconds += m.duration;
  }
  store.close();
  const groups = groupByLength(refTokens, items.map((x) => x.frames), opts);
  const systems: { name: string; run: (b: readonly Features[]) => Promise<number[][]> }[] = [
    { name: "NAST greedy", run: (b) => engine.nast(b) },
    { name: "AR greedy", run: (b) => engine.ar(b, 1) },
    { name: `AR beam ${opts.beam}`, run: (b) => engine.ar(b, opts.beam) },
  ];
  // The AR encoder alone bounds what a decoder change can buy: CTC-NAST runs the same acoustic encoder (the
  // presets share it, models/configs/ar-small.json), so its time cannot fall below this.
  const encoderOnly = "AR encoder";
  const timed = [...systems, { name: encoderOnly, run: async (b: readonly Features[]) => (await engine.arEncoder(b), []) }];
  const hyps: Record<string, string[]> = Object.fromEntries(systems.map((sys) => [sys.name, new Array<string>(n).fill("")]));
  const seconds: Record<string, number[]> = {};
  for (const sys of timed) {
    // One untimed batch first: onnxruntime and libtorch allocate and tune on their first runs.
    await sys.run(groups[0]!.batches[0]!.map((i) => items[i]!));
    seconds[sys.name] = groups.map(() => 0);
  }
  // Batch by batch, every system in turn: a machine whose load changes during the run (a laptop, a shared
  // host) then slows all of them alike, and the ratios stay true where the totals do not.
  for (const [g, group] of groups.entries()) {
    for (const batch of group.batches) {
      const feats = batch.map((i) => items[i]!);
      for (const sys of timed) {
        const t0 = performance.now();
        const ids = await sys.run(feats);
        seconds[sys.name]![g]! += (performance.now() - t0) / 1000;
        const out = hyps[sys.name];
        if (out) batch.forEach((i, k) => (out[i] = spm.decode(ids[k]!)));
      }
    }
  }
  const arEncoderSeconds = seconds[encoderOnly]!.reduce((x, y) => x + y, 0);
  const total = (name: string) => seconds[name]!.reduce((a, b) => a + b, 0);
  const [nastName, ...arNames] = systems.map((s) => s.name) as [string, ...string[]];
  const baseline = arNames.at(-1)!;
  const order = [baseline, nastName, ...arNames.slice(0, -1)];
  const test = pairedBootstrap(order.map((name) => hyps[name]!), [refs], [new Bleu()], opts.bootstrap, DEFAULT_SEED);
  const rows = test.results.get("BLEU")!;
  const results: SystemResult[] = systems.map((s) => {
    const r = rows[order.indexOf(s.name)]!;
    const tokens = hyps[s.name]!.reduce((a, h) => a + spm.encode(h).length, 0);
    return { name: s.name, seconds: total(s.name), sentencesPerSecond: n / total(s.name), bleu: r.score, ci: r.ci, pValue: r.pValue, meanTokens: tokens / n };
  });
  const speedup = Object.fromEntries(arNames.map((a) => [a, total(a) / total(nastName)]));
  const byLength = groups.map((group, g) => ({
    tokens: group.label,
    utterances: group.batches.reduce((a, b) => a + b.length, 0),
    seconds: Object.fromEntries(systems.map((s) => [s.name, seconds[s.name]![g]!])),
    speedup: Object.fromEntries(arNames.map((a) => [a, seconds[a]![g]! / seconds[nastName]![g]!])),
  }));
  return {
    setting: {
      engine: engine.name,
      split: opts.split,
      utterances: n,
      frames: items.reduce((a, x) => a + x.frames, 0),
      audioSeconds,
      batch: opts.batchFrames === 0 ? "1 utterance" : `${opts.batchFrames} frames`,
      beam: opts.beam,
    },
    systems: results,
    speedup,
    arEncoderSeconds,
    ceiling: Object.fromEntries(arNames.map((a) => [a, total(a) / arEncoderSeconds])),
    byLength,
    signature: test.signatures.get("BLEU")!.format(false),
    hyps,
    refs,
  };
}

/** The report as Markdown: the systems, then the speed-up by reference length. */
export function speedupMarkdown(r: SpeedupReport): string {
  const s = r.setting;
  const [nast, ...ar] = r.systems;
  const lines = [
    `# nast bench speedup: ${s.engine}, batch ${s.batch}, ${s.split} (${s.utterances} utterances, ${(s.audioSeconds / 60).toFixed(1)} min)`,
    "",
    `| system | seconds | sentences/s | NAST's speed-up | BLEU | 95% CI | p (vs ${ar.at(-1)!.name}) | tokens/utt |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.systems.map((x) => {
      const up = x === nast ? "1x" : `${(r.speedup[x.name] ?? 0).toFixed(2)}x`;
      return `| ${x.name} | ${x.seconds.toFixed(2)} | ${x.sentencesPerSecond.toFixed(1)} | ${up} | ${x.bleu.toFixed(2)} | ±${x.ci.toFixed(2)} | ${x.pValue === null ? "(baseline)" : x.pValue.toFixed(4)} | ${x.meanTokens.toFixed(1)} |`;
    }),
    "",
    `NAST's speed-up: ${ar.map((x) => `${(r.speedup[x.name] ?? 0).toFixed(2)}x over ${x.name}`).join(", ")}.`,
    "",
    `The AR model's encoder pass alone took ${r.arEncoderSeconds.toFixed(2)} s: no model with this acoustic encoder can be more than ` +
      `${ar.map((x) => `${(r.ceiling[x.name] ?? 0).toFixed(2)}x faster than ${x.name}`).join(" or ")} here.`,
    "",
    `| reference tokens | utterances | ${r.systems.map((x) => `${x.name} s`).join(" | ")} | ${ar.map((x) => `speed-up vs ${x.name}`).join(" | ")} |`,
    `| --- | ---: | ${r.systems.map(() => "---:").join(" | ")} | ${ar.map(() => "---:").join(" | ")} |`,
    ...r.byLength.map((g) => `| ${g.tokens} | ${g.utterances} | ${r.systems.map((x) => g.seconds[x.name]!.toFixed(3)).join(" | ")} | ${ar.map((x) => `${g.speedup[x.name]!.toFixed(2)}x`).join(" | ")} |`),
    "",
    `BLEU: ${r.signature}`,
    "",
  ];
  return lines.join("\n");
}
