// Learning-rate and curriculum schedules: pure functions of the update number, so that a resumed run
// recomputes them exactly from the step alone.

/**
 * fairseq's `inverse_sqrt` (docs/model.md §5.4): linear warm-up from `initLr` to `peakLr` over `warmup`
 * updates, then peakLr·sqrt(warmup/step). `step` counts updates from 1.
 */
export function inverseSqrtLr(step: number, peakLr: number, warmup: number, initLr = 1e-7): number {
  if (warmup > 0 && step < warmup) return initLr + (step * (peakLr - initLr)) / warmup;
  return peakLr * Math.sqrt(Math.max(warmup, 1) / Math.max(step, 1));
}

/** The curriculum's linear ratio decay (`xctc-pae-ground-truth-ratio-decay start:end:ratio`), as in NastConfig. */
export interface RatioDecay {
  startStep: number;
  endStep: number;
  /** The ratio reached at endStep and kept afterwards. */
  endRatio: number;
}

/**
 * The ground-truth mixing ratio at `step` (docs/model.md §5.2): constant `ratio` (the reference recipe:
 * 0.8, no decay), or a linear decay from `ratio` at decay.startStep to decay.endRatio at decay.endStep.
 */
export function curriculumRatio(step: number, ratio: number, decay?: RatioDecay | null): number {
  if (!decay || step <= decay.startStep) return ratio;
  if (step >= decay.endStep) return decay.endRatio;
  return ratio + ((step - decay.startStep) / (decay.endStep - decay.startStep)) * (decay.endRatio - ratio);
}
