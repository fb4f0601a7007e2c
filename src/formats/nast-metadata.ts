// The "nast.config" metadata key that checkpoints (safetensors __metadata__, written by nast train and nast
// average, src/train/checkpoint.ts) and model packages (ONNX metadata_props, written by nast export) carry:
// the resolved model config as JSON (docs/design.md §5.3). This is its one parser; the config itself is
// validated by src/model/config.ts.

export const CONFIG_KEY = "nast.config";

/** The "nast.config" value of `metadata`, parsed as JSON; undefined when the file has none. `source` names the file. */
export function parseConfigMetadata(metadata: Readonly<Record<string, string>>, source: string): unknown {
  const raw = metadata[CONFIG_KEY];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new Error(`${source}: its "nast.config" metadata is not JSON (${(err as Error).message})`);
  }
}
