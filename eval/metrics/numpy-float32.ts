// numpy 2 scalar arithmetic as sacreBLEU's bootstrap meets it: resampled statistics are float32 arrays, and
// under numpy's promotion rules (NEP 50) a Python int or float combined with a float32 is cast to float32 and
// the operation is done in float32, while Python-only operations stay in float64. Values carry which kind they
// are, so the score formulas can be written once and evaluated like numpy would.

export interface Num {
  v: number;
  /** true: a numpy float32 scalar; false: a Python float or int */
  f32: boolean;
}

export const py = (v: number): Num => ({ v, f32: false });
export const f32 = (v: number): Num => ({ v: Math.fround(v), f32: true });

function op(a: Num, b: Num, fn: (x: number, y: number) => number): Num {
  return a.f32 || b.f32 ? f32(fn(Math.fround(a.v), Math.fround(b.v))) : py(fn(a.v, b.v));
}

export const add = (a: Num, b: Num): Num => op(a, b, (x, y) => x + y);
export const sub = (a: Num, b: Num): Num => op(a, b, (x, y) => x - y);
export const mul = (a: Num, b: Num): Num => op(a, b, (x, y) => x * y);
export const div = (a: Num, b: Num): Num => op(a, b, (x, y) => x / y);

/** Sum of rows of statistics as numpy's float32 `stats[idx].sum(0)` computes it (row by row, float32). */
export function sumFloat32(stats: readonly (readonly number[])[], idx: Uint32Array, width: number): number[] {
  const total = new Float32Array(width);
  for (const i of idx) {
    const row = stats[i] as readonly number[];
    for (let j = 0; j < width; j++) total[j] = (total[j] as number) + Math.fround(row[j] as number);
  }
  return Array.from(total);
}

/** numpy's pairwise summation (ndarray.sum/mean), in float64 or, for float32 arrays, in float32. */
export function numpySum(values: readonly number[], float32: boolean, start = 0, n = values.length): number {
  const r = float32 ? Math.fround : (x: number) => x;
  if (n < 8) {
    let res = float32 ? 0 : 0;
    for (let i = 0; i < n; i++) res = r(res + (values[start + i] as number));
    return res;
  }
  if (n <= 128) {
    const acc: number[] = [];
    for (let j = 0; j < 8; j++) acc.push(values[start + j] as number);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) acc[j] = r((acc[j] as number) + (values[start + i + j] as number));
    const [a0, a1, a2, a3, a4, a5, a6, a7] = acc as [number, number, number, number, number, number, number, number];
    let res = r(r(r(a0 + a1) + r(a2 + a3)) + r(r(a4 + a5) + r(a6 + a7)));
    for (; i < n; i++) res = r(res + (values[start + i] as number));
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return r(numpySum(values, float32, start, n2) + numpySum(values, float32, start + n2, n - n2));
}

/** ndarray.mean(): pairwise sum divided by the count, in the array's precision. */
export function numpyMean(values: readonly number[], float32: boolean): number {
  const m = numpySum(values, float32) / values.length;
  return float32 ? Math.fround(m) : m;
}
