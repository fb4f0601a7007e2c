// The page of `nast serve` (docs in README.md, "In the browser"): the model package and the Silero VAD
// model are fetched from the page's own server once, then a dropped, picked or recorded file is segmented
// and translated in the page by the CLI's code (src/infer/segment-translator.ts), segment by segment, and
// offered for download in the CLI's formats (src/infer/result-formats.ts).
import { render, FORMATS, type FileResult, type ResultSink, type SegmentResult } from "../infer/result-formats.ts";
import { SegmentTranslator, type ProgressSink } from "../infer/segment-translator.ts";
import { errorMessage } from "../util/errors.ts";
import { audioSource } from "./audio-input.ts";
import { createEngine, engineThreads, type Engine } from "./engine.ts";
import { fetchBytes, fetchModel, type FetchedModel } from "./model-fetch.ts";
import { recordButton } from "./recorder.ts";

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
};

/** The name the results give the model (the CLI gives its directory). */
const MODEL_NAME = "model";

function setState(state: "loading" | "ready" | "running" | "done" | "error"): void {
  document.body.dataset.state = state;
}

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - 60 * m).toFixed(1).padStart(4, "0")}`;
}

async function load(): Promise<{ pkg: FetchedModel; engine: Engine }> {
  const t0 = performance.now();
  const bar = $<HTMLProgressElement>("model-progress");
  const pkg = await fetchModel(new URL("model/", location.href).href, (got, total) => {
    if (total > 0) bar.value = got / total;
  });
  const vad = await fetchBytes(new URL("vad/silero_vad.onnx", location.href).href);
  const wanted = new URLSearchParams(location.search).get("threads");
  const engine = await createEngine(pkg, vad, new URL("ort/", location.href).href, engineThreads(wanted === null ? undefined : Number(wanted)));
  const seconds = (performance.now() - t0) / 1000;
  document.body.dataset.loadSeconds = seconds.toFixed(3);
  bar.value = 1;
  $("model-status").textContent = `Model loaded in ${seconds.toFixed(1)} s${pkg.description ? `: ${pkg.description}` : ""}`;
  $("backend").textContent = `Runs on onnxruntime-web, ${engine.backend}${globalThis.crossOriginIsolated ? "" : " (the page is not cross-origin isolated: one thread)"}; segments by Silero VAD.`;
  return { pkg, engine };
}

/** Shows each segment as it arrives and keeps the whole result for the downloads. */
function pageSink(result: FileResult): ResultSink {
  const rows = $("segments").querySelector("tbody")!;
  return {
    begin: (h) => Object.assign(result, h, { segments: [], translation: "" }),
    segment: (s: SegmentResult) => {
      result.segments.push(s);
      const tr = document.createElement("tr");
      for (const text of [`${clock(s.start)} – ${clock(s.end)}`, s.source, s.translation]) tr.appendChild(document.createElement("td")).textContent = text;
      rows.appendChild(tr);
    },
    end: (t) => {
      result.translation = t;
      $("translation").textContent = t;
    },
  };
}

function offerDownloads(result: FileResult): void {
  const box = $("downloads");
  box.replaceChildren("Download: ");
  const stem = result.file.replace(/\.[^.]*$/, "") || "audio";
  for (const format of FORMATS) {
    const a = box.appendChild(document.createElement("a"));
    a.href = URL.createObjectURL(new Blob([render(format, result)], { type: "text/plain;charset=utf-8" }));
    a.download = `${stem}.${format}`;
    a.textContent = format;
  }
}

async function translate(translator: SegmentTranslator, notes: string[], bytes: Uint8Array, name: string): Promise<void> {
  setState("running");
  notes.length = 0;
  $("run").hidden = false;
  $("error").hidden = true;
  $("segments").querySelector("tbody")!.replaceChildren();
  $("translation").textContent = "";
  $("downloads").replaceChildren();
  const status = $("run-status");
  const bar = $<HTMLProgressElement>("run-progress");
  bar.value = 0;
  status.textContent = `Reading ${name}…`;
  const t0 = performance.now();
  try {
    const source = await audioSource(bytes, name);
    let total = 0;
    let done = 0;
    const progress: ProgressSink = {
      start: (seconds) => {
        total = seconds;
        status.textContent = `Translating ${name} (${clock(seconds)})…`;
      },
      advance: (seconds) => {
        done += seconds;
        bar.value = total > 0 ? done / total : 1;
      },
      finish: () => void (bar.value = 1),
    };
    const result: FileResult = { file: name, duration: 0, model: MODEL_NAME, segments: [], translation: "" };
    const { duration } = await translator.translateSource(source, name, MODEL_NAME, pageSink(result), progress);
    const seconds = (performance.now() - t0) / 1000;
    document.body.dataset.translateSeconds = seconds.toFixed(3);
    document.body.dataset.audioSeconds = String(duration);
    status.textContent = `${name}: ${clock(duration)} of audio translated in ${seconds.toFixed(1)} s (real-time factor ${(seconds / duration).toFixed(3)})${notes.map((n) => `; ${n}`).join("")}`;
    offerDownloads(result);
    setState("done");
  } catch (err) {
    status.textContent = "";
    const box = $("error");
    box.hidden = false;
    box.textContent = errorMessage(err);
    setState("error");
  }
}

async function main(): Promise<void> {
  let loaded: { pkg: FetchedModel; engine: Engine };
  try {
    loaded = await load();
  } catch (err) {
    $("model-status").textContent = `The model could not be loaded: ${errorMessage(err)}`;
    setState("error");
    return;
  }
  const { pkg, engine } = loaded;
  // Warnings of the translator (no speech found) join the status line of the file.
  const notes: string[] = [];
  const warn = (message: string): void => void notes.push(message);
  const translator = new SegmentTranslator(pkg.model, engine.runner, { segmenter: engine.segmenter, warn });
  let busy = false;
  const run = async (bytes: Uint8Array, name: string): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      await translate(translator, notes, bytes, name);
    } finally {
      busy = false;
    }
  };
  const input = $<HTMLInputElement>("file");
  const onFile = async (file: File | undefined): Promise<void> => {
    if (file !== undefined) await run(new Uint8Array(await file.arrayBuffer()), file.name);
  };
  input.disabled = false;
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    // Emptied, so that picking the same file again is a change too.
    input.value = "";
    void onFile(file);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void onFile(e.dataTransfer?.files[0]);
  });
  recordButton($<HTMLButtonElement>("record"), (bytes) => run(bytes, "recording.webm"));
  setState("ready");
}

void main();
