// Running the TTS engines: each writes one WAV file per sentence at its own sample rate (espeak-ng
// 22,050 Hz; festival's kal/ked diphones 16 kHz, its slt HTS voice 32 kHz; flite 16 kHz; MBROLA 16 kHz;
// RHVoice 16 kHz with `-q min`; Pico 16 kHz; festival's rab 16 kHz and don 10 kHz); src/corpus/effects.ts
// then brings every file to 16 kHz. Text goes through files or standard input, never the command line,
// so that a sentence starting with "-" cannot be read as an option.
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { errorMessage } from "../util/errors.ts";
import { runProcess } from "./process.ts";
import { type Speaker, voicePackages } from "./voices.ts";
import type { Tools } from "./tools.ts";

/** Synthesizes each text with the speaker's engine and voice into `dir`; returns the WAV paths, in order. */
export async function synthesizeSentences(speaker: Speaker, texts: readonly string[], dir: string, tools: Tools): Promise<string[]> {
  // Absolute: the prefix's pico2wave runs in its own folder (tools.ts).
  const wavs = texts.map((_, i) => resolve(dir, `seg${i}.wav`));
  try {
    await runEngine(speaker, texts, wavs, dir, tools);
  } catch (err) {
    throw new Error(`${speaker.engine} voice ${speaker.voice}: ${errorMessage(err)} (Debian packages: ${voicePackages(speaker)})`);
  }
  return wavs;
}

async function runEngine(speaker: Speaker, texts: readonly string[], wavs: readonly string[], dir: string, tools: Tools): Promise<void> {
  const textFile = (i: number, text: string) => {
    const txt = join(dir, `seg${i}.txt`);
    writeFileSync(txt, `${text}\n`);
    return txt;
  };
  switch (speaker.engine) {
    case "espeak":
    case "mbrola":
      for (let i = 0; i < texts.length; i++) {
        const txt = textFile(i, texts[i]!);
        // espeak-ng's mb-* voices hand its phonemes to the mbrola program (run from PATH), which reads
        // the database from espeak-ng-data/mbrola/<voice> under --path, else /usr/share/mbrola/<voice>/.
        const voice = speaker.engine === "mbrola" ? `mb-${speaker.voice}` : `${speaker.voice}+${speaker.variant}`;
        const args = ["-v", voice, "-s", String(speaker.rate), "-p", String(speaker.pitch), "-w", wavs[i]!, "-f", txt];
        if (tools.espeakPath) args.unshift("--path", tools.espeakPath);
        await runProcess(tools.espeak, args, "", tools.env);
      }
      break;
    case "flite":
      for (let i = 0; i < texts.length; i++) {
        const txt = textFile(i, texts[i]!);
        await runProcess(tools.flite, ["-voice", speaker.voice, "-f", txt, "-o", wavs[i]!], "", tools.env);
      }
      break;
    case "rhvoice": {
      // RHVoice-test speaks its first voice, exit status 0, when the one asked for is not installed.
      const voiceDir = join(tools.rhvoiceData, "voices", speaker.voice);
      if (!existsSync(join(voiceDir, "voice.info"))) throw new Error(`the voice is not installed (no ${voiceDir}/voice.info)`);
      for (let i = 0; i < texts.length; i++) {
        // "&" is silent in RHVoice's English text rules; the other engines say "and".
        const txt = textFile(i, texts[i]!.replace(/&/g, " and "));
        // -q min: the voice's 16 kHz models (the 24 kHz ones are the default), the rate the corpus keeps,
        // and the only ones in the GPU prefix, so that both give the same audio.
        const args = ["-p", speaker.voice, "-q", "min", "-r", String(speaker.rate), "-t", String(speaker.pitch), "-i", txt, "-o", wavs[i]!];
        await runProcess(tools.rhvoice, args, "", tools.env);
      }
      break;
    }
    case "pico":
      for (let i = 0; i < texts.length; i++) {
        // pico2wave reads standard input when no text argument is given. Pico takes <...> as its markup
        // (<ignore>x</ignore> drops x), so angle brackets are said, as espeak-ng says them.
        const text = texts[i]!.replace(/</g, " less than ").replace(/>/g, " greater than ");
        await runProcess(tools.pico, ["-l", speaker.voice, "-w", wavs[i]!], `${text}\n`, tools.env);
      }
      break;
    case "festival":
    case "festvox": {
      // One festival process per talk: loading festival and a voice takes ~1 s, a sentence far less.
      const script = join(dir, "talk.scm");
      const lines = [...(speaker.engine === "festvox" ? cmuLexiconForMrpaVoices : []), `(voice_${speaker.voice})`];
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
}

/**
 * festival's rab and don voices are set up with the OALD lexicon (festlex-oald: "for research,
 * educational and individual use only", no commercial use). This replaces it with the CMU lexicon
 * (festlex-cmu: "no commercial restrictions"), its phones mapped from festival's radio phone set to the
 * voices' mrpa one: the voice files call (setup_oald_lex) and (lex.select "oald"), so the CMU lexicon is
 * defined under that name before they load. Both phone sets are festival's (radio_phones.scm,
 * mrpa_phones.scm); the CMU dictionary uses the radio phones without stress digits.
 *
 * The CMU letter-to-sound rules can give a syllable without a vowel, e.g. "rbi" -> ((r) 0) ((b iy) 1),
 * also "rurality", "rlogin", "RBLing" from the training text. The kal/ked voices take that, but with
 * these voices' mrpa phones festival crashes (SIGSEGV in its Int_Targets module, seen when the
 * utterance modules are run one by one), taking the whole talk with it. So each entry's vowelless
 * syllables join the next syllable (the last one joins the one before, and a word with no vowel at all
 * gets a schwa before its last phone); entries with a vowel in every syllable are unchanged. (The
 * "Diphone not found - e-#" lines that don's Donovan synthesizer prints beside such a crash are
 * harmless: it then uses its silence diphone.)
 */
const cmuLexiconForMrpaVoices = [
  "(setup_cmu_lex)",
  "(set! nast_radio_to_mrpa '((aa aa) (ae a) (ah uh) (ao oo) (aw au) (ax @) (axr @) (ay ai) (dx t) (eh e) (el l) (em m) (en n)",
  "  (er @@) (ey ei) (hh h) (hv h) (ih i) (ix @) (iy ii) (nx n) (ow ou) (oy oi) (uh u) (uw uu) (pau #)))",
  "(define (nast_mrpa_phone p) (let ((m (assoc_string p nast_radio_to_mrpa))) (if m (cadr m) p)))",
  // mrpa's vowels (mrpa_phones.scm, vc +).
  "(define (nast_voweled syl) (let ((v nil)) (mapcar (lambda (p) (if (member_string p '(uh e a o i u ii uu oo aa @@ ai ei oi au ou e@ i@ u@ @)) (set! v t))) (car syl)) v))",
  "(define (nast_join_next syls)",
  "  (cond ((null? (cdr syls)) syls)",
  "        ((nast_voweled (car syls)) (cons (car syls) (nast_join_next (cdr syls))))",
  "        (t (nast_join_next (cons (list (append (car (car syls)) (car (cadr syls))) (cadr (cadr syls))) (cddr syls))))))",
  "(define (nast_voweled_syls syls)",
  "  (let ((r (reverse (nast_join_next syls))))",
  "    (cond ((null? r) syls)",
  "          ((nast_voweled (car r)) (reverse r))",
  "          ((cdr r) (reverse (cons (list (append (car (cadr r)) (car (car r))) (cadr (cadr r))) (cddr r))))",
  "          (t (let ((ps (reverse (car (car r))))) (list (list (reverse (cons (car ps) (cons '@ (cdr ps)))) (cadr (car r)))))))))",
  "(define (nast_mrpa_entry e)",
  "  (list (car e) (cadr e) (nast_voweled_syls (mapcar (lambda (syl) (cons (mapcar nast_mrpa_phone (car syl)) (cdr syl))) (car (cddr e))))))",
  "(define (setup_oald_lex)",
  "  (if (not (member_string \"oald\" (lex.list)))",
  "      (begin",
  "        (lex.create \"oald\")",
  "        (lex.set.compile.file (path-append lexdir \"cmu/cmudict-0.4.out\"))",
  "        (lex.set.phoneset \"mrpa\")",
  "        (lex.set.lts.method 'cmu_lts_function)",
  "        (lex.set.pos.map english_pos_map_wp39_to_wp20)",
  "        (lex.set.post_hooks nast_mrpa_entry)",
  "        (cmulex_addenda))))",
];

function schemeString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
