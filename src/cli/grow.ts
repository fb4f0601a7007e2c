// `nast grow MODEL -o OUT.safetensors --acoustic-after LIST --textual-after LIST [--acoustic-ffn N] [--textual-ffn N]`:
// a larger CTC-NAST model that starts as the trained one (src/model/grow.ts says why it computes the same
// function), to train on with `nast train -c OUT.json --init OUT.safetensors`.
import { existsSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { intFlag, parseFlags, stringFlags } from "./args.ts";
import { CONFIG_KEY } from "../formats/nast-metadata.ts";
import { writeSafetensors, type HostTensor } from "../formats/safetensors.ts";
import { nastOnly } from "../model/config.ts";
import { growConfig, growWeights } from "../model/grow.ts";
import { countParams, paramSpecs } from "../model/params.ts";
import { UsageError } from "../util/errors.ts";
import { JsonLogger } from "../util/log.ts";
import type { Tensor } from "../torch/index.ts";

const USAGE = `usage: nast grow MODEL -o OUT.safetensors [--acoustic-after LIST] [--textual-after LIST]
                 [--acoustic-ffn N] [--textual-ffn N] [--config-out OUT.json] [--seed N]

  A larger CTC-NAST model that computes what MODEL computes (a model package such as models/default, or a
  checkpoint): new layers between trained ones, wider FFNs. Train it on with
    nast train -c OUT.json --init OUT.safetensors -d DATA ...
  on data prepared with MODEL's SentencePiece model.

  --acoustic-after LIST  new Conformer layers, each after the trained layer named (1-based; "2,3,5,7";
                         a number twice adds two). Not after an InterCTC layer.
  --textual-after LIST   new textual layers, each after the trained layer named (0: before layer 1)
  --acoustic-ffn N       FFN width of every Conformer layer (at least the trained one)
  --textual-ffn N        FFN width of every textual layer
  --config-out FILE      also write the grown config as JSON (for nast train -c)
  --seed N               seed of the new weights that do not start at zero (default 1)
  -o FILE                the grown weights, with their config embedded
`;

function layerList(value: string | undefined, flag: string): number[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((s) => {
    const n = Number(s.trim());
    if (s.trim() === "" || !Number.isInteger(n)) throw new UsageError(`${flag}: '${s}' is not a layer number; give a comma-separated list such as 2,3,5`);
    return n;
  });
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags({
    args: argv,
    allowPositionals: true,
    options: { ...stringFlags("acoustic-after", "textual-after", "acoustic-ffn", "textual-ffn", "config-out", "seed"), output: { type: "string", short: "o" } },
  }, USAGE);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const source = positionals[0];
  if (positionals.length !== 1 || source === undefined) throw new UsageError(`expected one MODEL\n\n${USAGE}`);
  if (!values.output) throw new UsageError(`-o OUT.safetensors is required\n\n${USAGE}`);
  const plan = {
    acousticAfter: layerList(values["acoustic-after"], "--acoustic-after"),
    textualAfter: layerList(values["textual-after"], "--textual-after"),
    ...(values["acoustic-ffn"] !== undefined ? { acousticFfnDim: intFlag(values["acoustic-ffn"], "--acoustic-ffn", 1)! } : {}),
    ...(values["textual-ffn"] !== undefined ? { textualFfnDim: intFlag(values["textual-ffn"], "--textual-ffn", 1)! } : {}),
  };
  const seed = intFlag(values.seed, "--seed", 0) ?? 1;
  // Before the weights are read and grown, not after.
  for (const [flag, path] of [["-o", values.output], ["--config-out", values["config-out"]]] as const) {
    if (path === undefined) continue;
    const dir = dirname(path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${flag} ${path}: the folder ${dir} does not exist; create it first`);
  }

  // libtorch only here: reading a package's or checkpoint's weights and drawing the new ones as `nast train` would.
  const { readStartWeights } = await import("../train/start-weights.ts");
  const { initParams } = await import("../eager/init.ts");
  const start = readStartWeights(source, "cpu");
  if (start.cfg === null) throw new UsageError(`${start.path}: carries no model config ("nast.config" metadata); grow needs to know the model's layout`);
  const from = nastOnly(start.cfg, start.path, "nast grow");
  const grown = growConfig(from, plan);
  const { toHostMap } = await import("../train/host-tensors.ts");
  const host = (tensors: Map<string, Tensor>): Map<string, HostTensor> => {
    const out = toHostMap(tensors);
    for (const t of tensors.values()) t.dispose();
    return out;
  };
  const weights = growWeights(host(start.tensors), grown, host(initParams(grown.cfg, { seed })));
  writeSafetensors(values.output, weights, {
    [CONFIG_KEY]: JSON.stringify(grown.cfg),
    "nast.grown_from": JSON.stringify({ source: start.path, ...plan, seed }),
  });
  if (values["config-out"]) writeFileSync(values["config-out"], JSON.stringify(grown.cfg, null, 2) + "\n");
  new JsonLogger(undefined, process.stderr).log("grow", {
    source: start.path,
    output: values.output,
    params: { before: countParams(paramSpecs(from)), after: countParams(paramSpecs(grown.cfg)) },
    acoustic: { layers: grown.cfg.acoustic.layers, ffnDim: grown.cfg.acoustic.ffnDim, interCtc: grown.cfg.acoustic.interCtcLayers, lisa: grown.cfg.lisa.acoustic },
    textual: { layers: grown.cfg.textual.layers, ffnDim: grown.cfg.textual.ffnDim, interCtc: grown.cfg.textual.interCtcLayers, lisa: grown.cfg.lisa.textual, memoryLayer: grown.cfg.textual.cla.memoryLayer },
  });
  return 0;
}
