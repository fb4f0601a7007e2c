// The assignment problem (Kuhn 1955, Munkres 1957): a one-to-one pairing of rows and columns of a square
// matrix with the least total cost, in O(n³) with row/column potentials and shortest augmenting paths.

/** assignment[r] = the column paired with row r, minimising Σ cost[r][assignment[r]]. */
export function minimumAssignment(cost: number[][]): number[] {
  const n = cost.length;
  for (const row of cost) if (row.length !== n) throw new Error("minimumAssignment: the cost matrix must be square");
  // 1-based arrays; index 0 is the virtual start column of each augmenting path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOfCol = new Int32Array(n + 1); // 0 = free
  const way = new Int32Array(n + 1);
  for (let r = 1; r <= n; r++) {
    rowOfCol[0] = r;
    let col0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[col0] = 1;
      const r0 = rowOfCol[col0] as number;
      let delta = Infinity;
      let col1 = 0;
      for (let c = 1; c <= n; c++) {
        if (used[c]) continue;
        const reduced = (cost[r0 - 1]![c - 1] as number) - (u[r0] as number) - (v[c] as number);
        if (reduced < (minv[c] as number)) {
          minv[c] = reduced;
          way[c] = col0;
        }
        if ((minv[c] as number) < delta) {
          delta = minv[c] as number;
          col1 = c;
        }
      }
      for (let c = 0; c <= n; c++) {
        if (used[c]) {
          u[rowOfCol[c] as number] = (u[rowOfCol[c] as number] as number) + delta;
          v[c] = (v[c] as number) - delta;
        } else {
          minv[c] = (minv[c] as number) - delta;
        }
      }
      col0 = col1;
    } while (rowOfCol[col0] !== 0);
    do {
      const prev = way[col0] as number;
      rowOfCol[col0] = rowOfCol[prev] as number;
      col0 = prev;
    } while (col0 !== 0);
  }
  const assignment = new Array<number>(n).fill(-1);
  for (let c = 1; c <= n; c++) assignment[(rowOfCol[c] as number) - 1] = c - 1;
  return assignment;
}

/** The pairing with the greatest total score. */
export function maximumAssignment(score: number[][]): number[] {
  return minimumAssignment(score.map((row) => row.map((x) => -x)));
}
