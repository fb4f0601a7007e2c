// Simulated rooms: the room impulse response of a shoebox room by the image-source method (J. B. Allen
// and D. A. Berkley, "Image method for efficiently simulating small-room acoustics", JASA 65(4), 1979),
// with the same absorption on every wall, chosen from the wanted reverberation time by Eyring's formula
// (C. F. Eyring, "Reverberation time in 'dead' rooms", JASA 1, 1930). Each image is placed with a
// Hann-windowed sinc fractional delay (P. M. Peterson, "Simulating the response of multiple
// microphones to a single acoustic source in a reverberant room", JASA 80(5), 1986, instead of
// Allen & Berkley's rounding to whole samples), and the response is high-passed as they do, to remove
// the DC that the all-positive image sum builds up. The response starts `pad` samples before the
// direct path, whose gain is 1, so that convolving with it keeps the talk's timing.
import { biquad, filterInPlace } from "./dsp.ts";
import type { Rng } from "./rng.ts";

export const SOUND_SPEED = 343;

export interface RoomPlan {
  /** Room size x, y, z in metres. */
  dims: [number, number, number];
  source: [number, number, number];
  mic: [number, number, number];
  /** Wanted reverberation time (s); `absorption` is Eyring's absorption coefficient for it. */
  rt60: number;
  absorption: number;
}

/** Samples of the response before the direct path (half the fractional-delay filter). */
export const ROOM_PAD = 4;
/** Phases of the fractional-delay table. */
const PHASES = 64;
/** Most images summed for one response: bounds the cost of small, reverberant rooms (~40 ms). */
export const MAX_IMAGES = 1_500_000;

const volume = (d: readonly number[]) => d[0]! * d[1]! * d[2]!;
const surface = (d: readonly number[]) => 2 * (d[0]! * d[1]! + d[0]! * d[2]! + d[1]! * d[2]!);

/** Sabine: RT60 = 0.161 V / (S α). */
export function sabineRt60(dims: readonly number[], absorption: number): number {
  return (0.161 * volume(dims)) / (surface(dims) * absorption);
}

/** Eyring: RT60 = 0.161 V / (−S ln(1 − α)). */
export function eyringRt60(dims: readonly number[], absorption: number): number {
  return (0.161 * volume(dims)) / (-surface(dims) * Math.log(1 - absorption));
}

/** The absorption coefficient that gives `rt60` by Eyring's formula. */
export function eyringAbsorption(dims: readonly number[], rt60: number): number {
  return 1 - Math.exp((-0.161 * volume(dims)) / (surface(dims) * rt60));
}

let delayTable: Float64Array | null = null;
/** taps[phase · 2·ROOM_PAD + j]: the Hann-windowed sinc at offsets j − (ROOM_PAD − 1) − phase / PHASES. */
function fractionalDelayTable(): Float64Array {
  if (delayTable) return delayTable;
  const taps = 2 * ROOM_PAD;
  const t = new Float64Array(PHASES * taps);
  for (let p = 0; p < PHASES; p++) {
    const frac = p / PHASES;
    for (let j = 0; j < taps; j++) {
      const u = j - (ROOM_PAD - 1) - frac;
      const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
      const w = 0.5 + 0.5 * Math.cos((Math.PI * u) / ROOM_PAD);
      t[p * taps + j] = sinc * w;
    }
  }
  return (delayTable = t);
}

/**
 * The response of `room` at `rate`, `seconds` long after the direct path (shortened where the images
 * would exceed MAX_IMAGES). Direct path at index ROOM_PAD with gain 1 (before the high-pass).
 */
export function roomImpulseResponse(room: RoomPlan, rate: number, seconds: number, maxImages = MAX_IMAGES): Float32Array {
  const [lx, ly, lz] = room.dims;
  const beta = Math.sqrt(1 - room.absorption);
  const d0 = Math.hypot(room.source[0] - room.mic[0], room.source[1] - room.mic[1], room.source[2] - room.mic[2]);
  // Images lie one per room volume: N(R) ≈ (4π/3) R³ / V within distance R of the microphone.
  const rBudget = Math.cbrt((3 * maxImages * volume(room.dims)) / (4 * Math.PI));
  const rMax = Math.min(d0 + SOUND_SPEED * seconds, rBudget);
  const length = ROOM_PAD + Math.ceil(((rMax - d0) / SOUND_SPEED) * rate) + ROOM_PAD + 1;
  const h = new Float64Array(length);
  // Per axis: image coordinate minus microphone coordinate and the number of wall reflections for
  // each lattice index n and parity q (Allen & Berkley eq. 8-10): x = (1 − 2q)·xs + 2·n·L.
  const axis = (len: number, s: number, m: number) => {
    const nMax = Math.ceil(rMax / (2 * len)) + 1;
    const delta: number[] = [];
    const order: number[] = [];
    for (let n = -nMax; n <= nMax; n++) {
      for (let q = 0; q <= 1; q++) {
        const d = (1 - 2 * q) * s + 2 * n * len - m;
        if (Math.abs(d) > rMax) continue;
        delta.push(d);
        order.push(Math.abs(n - q) + Math.abs(n));
      }
    }
    return { delta, order };
  };
  const ax = axis(lx, room.source[0], room.mic[0]);
  const ay = axis(ly, room.source[1], room.mic[1]);
  const az = axis(lz, room.source[2], room.mic[2]);
  const maxOrder = Math.max(...ax.order) + Math.max(...ay.order) + Math.max(...az.order);
  const betaPow = Float64Array.from({ length: maxOrder + 1 }, (_, k) => Math.pow(beta, k));
  const table = fractionalDelayTable();
  const taps = 2 * ROOM_PAD;
  const r2 = rMax * rMax;
  const samplesPerMetre = rate / SOUND_SPEED;
  for (let i = 0; i < ax.delta.length; i++) {
    const dx2 = ax.delta[i]! * ax.delta[i]!;
    for (let j = 0; j < ay.delta.length; j++) {
      const dxy2 = dx2 + ay.delta[j]! * ay.delta[j]!;
      if (dxy2 > r2) continue;
      const oxy = ax.order[i]! + ay.order[j]!;
      for (let k = 0; k < az.delta.length; k++) {
        const d2 = dxy2 + az.delta[k]! * az.delta[k]!;
        if (d2 > r2) continue;
        const d = Math.sqrt(d2);
        const gain = (betaPow[oxy + az.order[k]!]! * d0) / d;
        const t = (d - d0) * samplesPerMetre;
        const whole = Math.floor(t);
        const phase = Math.round((t - whole) * PHASES);
        const base = whole + (phase === PHASES ? 1 : 0) + 1; // tap j lands at ROOM_PAD + ⌊t⌋ + j − (ROOM_PAD − 1)
        const row = (phase === PHASES ? 0 : phase) * taps;
        for (let tap = 0; tap < taps; tap++) h[base + tap] = h[base + tap]! + gain * table[row + tap]!;
      }
    }
  }
  filterInPlace(h, [biquad("highpass", 50, rate)]);
  return Float32Array.from(h);
}

/**
 * Reverberation time from the Schroeder backward integral (M. R. Schroeder, "New method of measuring
 * reverberation time", JASA 37, 1965): the least-squares slope of the decay between −5 and
 * −(5 + range) dB, extrapolated to 60 dB (T20 for range 20, T30 for 30).
 */
export function measureRt60(h: ArrayLike<number>, rate: number, range = 20): number {
  const energy = new Float64Array(h.length);
  let acc = 0;
  for (let i = h.length - 1; i >= 0; i--) {
    acc += h[i]! * h[i]!;
    energy[i] = acc;
  }
  const total = energy[0]!;
  let sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (let i = 0; i < h.length; i++) {
    const db = 10 * Math.log10(energy[i]! / total);
    if (db > -5) continue;
    if (db < -5 - range) break;
    const t = i / rate;
    sx += t;
    sy += db;
    sxx += t * t;
    sxy += t * db;
    n++;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return -60 / slope;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * A random shoebox: each side log-uniform between 3 x 3 x 2.5 m and 20 x 15 x 6 m (small rooms are
 * the common case), RT60 uniform in 0.15-1.0 s, a talker's mouth 1.2-1.9 m high and a microphone
 * 0.7-2 m high, both at least 0.5 m from the walls and from each other. The response is simulated
 * for 0.9 RT60 (down by 54 dB), at most 1 s.
 */
export function drawRoom(rng: Rng): RoomPlan & { seconds: number } {
  const side = (lo: number, hi: number) => round3(lo * Math.pow(hi / lo, rng.next()));
  const dims: [number, number, number] = [side(3, 20), side(3, 15), side(2.5, 6)];
  const rt60 = round3(rng.uniform(0.15, 1.0));
  const inside = (l: number) => round3(rng.uniform(0.5, l - 0.5));
  let source: [number, number, number] = [0, 0, 0];
  let mic: [number, number, number] = [0, 0, 0];
  for (let tries = 0; tries < 100; tries++) {
    source = [inside(dims[0]), inside(dims[1]), round3(rng.uniform(1.2, Math.min(1.9, dims[2] - 0.5)))];
    mic = [inside(dims[0]), inside(dims[1]), round3(rng.uniform(0.7, Math.min(2.0, dims[2] - 0.5)))];
    if (Math.hypot(source[0] - mic[0], source[1] - mic[1], source[2] - mic[2]) >= 0.5) break;
  }
  return { dims, source, mic, rt60, absorption: Math.round(eyringAbsorption(dims, rt60) * 1e6) / 1e6, seconds: round3(Math.min(1, 0.9 * rt60)) };
}
