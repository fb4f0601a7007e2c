// `nast plot`: not implemented yet (its issue has not landed).
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write("nast plot: not available yet in this version.\n");
  return 2;
}
