// Alternating A/B timing of whole commands (the way the README's start-up figures are measured on a shared
// machine: the variants take turns, so a burst of other load hits them alike). Usage:
//   node scripts/ab-runs.mjs RUNS 'NAME=[VAR=value] command args…' …
// For each variant: min/median/max of the wall time and of each stage that `nast translate --timings` reports
// on stderr, and the first 50 characters of stdout (to see that the outputs agree).
import { spawnSync } from "node:child_process";

const runs = Number(process.argv[2]);
const variants = process.argv.slice(3).map((spec) => {
  const eq = spec.indexOf("=");
  return { name: spec.slice(0, eq), words: spec.slice(eq + 1).split(" ") };
});
if (!Number.isInteger(runs) || runs < 1 || variants.length === 0 || variants.some((v) => v.name === "" || v.words.length === 0)) {
  process.stderr.write("usage: node scripts/ab-runs.mjs RUNS 'NAME=[VAR=value] command args…' …\n");
  process.exit(2);
}
const times = new Map(variants.map((v) => [v.name, new Map([["wall", []]])]));
const outputs = new Map(variants.map((v) => [v.name, new Set()]));
for (let r = 0; r < runs; r++) {
  for (const { name, words } of variants) {
    const env = { ...process.env };
    let i = 0;
    for (; /^[A-Z_][A-Z0-9_]*=/.test(words[i] ?? ""); i++) {
      const eq = words[i].indexOf("=");
      env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
    }
    const t0 = performance.now();
    const p = spawnSync(words[i], words.slice(i + 1), { env, encoding: "utf8" });
    const stages = times.get(name);
    stages.get("wall").push(performance.now() - t0);
    for (const line of p.stderr.split("\n")) {
      if (!line.startsWith("{")) continue;
      const o = JSON.parse(line);
      if (o.event === "stage") stages.set(o.stage, [...(stages.get(o.stage) ?? []), o.ms]);
    }
    outputs.get(name).add(`${p.stdout.slice(0, 50).trim()}${p.status !== 0 ? ` (exit ${p.status}: ${p.stderr.slice(0, 200)})` : ""}`);
  }
}
const range = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0].toFixed(0)}/${s[s.length >> 1].toFixed(0)}/${s[s.length - 1].toFixed(0)}`;
};
for (const { name } of variants) {
  process.stdout.write(`${name}: ${[...outputs.get(name)].join(" | ")}\n  ${[...times.get(name)].map(([k, v]) => `${k}=${range(v)}`).join("  ")} (ms, min/median/max)\n`);
}
