// Running the TTS engines: each writes one WAV file per sentence at its own sample rate
// (espeak-ng 22,050 Hz, festival diphones 16 kHz and HTS 32 kHz, flite 16 kHz); src/corpus/effects.ts
// then brings every file to 16 kHz. Text goes through files, never the command line, so that a
// sentence starting with "-" cannot be read as an option.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "./process.ts";
import type { Speaker } from "./voices.ts";
import type { Tools } from "./tools.ts";

/** Synthesizes each text with the speaker's engine and voice into `dir`; returns the WAV paths, in order. */
export async function synthesizeSentences(speaker: Speaker, texts: readonly string[], dir: string, tools: Tools): Promise<string[]> {
  const wavs = texts.map((_, i) => join(dir, `seg${i}.wav`));
  switch (speaker.engine) {
    case "espeak":
      for (let i = 0; i < texts.length; i++) {
        const txt = join(dir, `seg${i}.txt`);
        writeFileSync(txt, `${texts[i]}\n`);
        const args = ["-v", `${speaker.voice}+${speaker.variant}`, "-s", String(speaker.rate), "-p", String(speaker.pitch), "-w", wavs[i]!, "-f", txt];
        if (tools.espeakPath) args.unshift("--path", tools.espeakPath);
        await runProcess(tools.espeak, args, "", tools.env);
      }
      break;
    case "flite":
      for (let i = 0; i < texts.length; i++) {
        const txt = join(dir, `seg${i}.txt`);
        writeFileSync(txt, `${texts[i]}\n`);
        await runProcess(tools.flite, ["-voice", speaker.voice, "-f", txt, "-o", wavs[i]!], "", tools.env);
      }
      break;
    case "festival": {
      // One festival process per talk: loading festival and a voice takes ~1 s, a sentence far less.
      const script = join(dir, "talk.scm");
      const lines = [`(voice_${speaker.voice})`];
      texts.forEach((t, i) => {
        lines.push(`(utt.save.wave (utt.synth (Utterance Text ${schemeString(t)})) ${schemeString(wavs[i]!)} 'riff)`);
      });
      writeFileSync(script, lines.join("\n") + "\n");
      const args = ["--batch", script];
      // Debian's festival looks for init.scm under --datadir and for its Scheme library under --libdir;
      // in Debian both are /usr/share/festival, compiled in, so a prefix must set both.
      if (tools.festivalLibdir) args.unshift("--libdir", tools.festivalLibdir, "--datadir", tools.festivalLibdir);
      await runProcess(tools.festival, args, "", tools.env);
      break;
    }
  }
  return wavs;
}

function schemeString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
