// `nast serve`: the browser page (src/web) with its runtime and a model package, on 127.0.0.1 by default.
import type { AddressInfo } from "node:net";
import { loadModelPackage } from "../formats/model-package.ts";
import { pageRoutes } from "../serve/page-routes.ts";
import { pageServer } from "../serve/page-server.ts";
import { UsageError } from "../util/errors.ts";
import { intFlag, parseFlags } from "./args.ts";

const USAGE = `usage: nast serve [-m MODEL_DIR] [--port P] [--host H]

Serves the page that translates audio in the browser (drop a file or record the microphone) with the
model package, the onnxruntime-web runtime and the Silero VAD model: once the page has loaded, nothing
else is fetched and nothing leaves the browser. Only those files are served. Ctrl-C stops it.

options:
  -m, --model DIR     model package written by \`nast export\` (default: models/default of this package)
      --port P        TCP port (default 8017; 0: any free port)
      --host H        address to listen on (default 127.0.0.1: this machine only)
  -h, --help          this help
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags({ args: argv, options: { model: { type: "string", short: "m" }, port: { type: "string" }, host: { type: "string" } } }, USAGE);
  if (!parsed) return 0;
  const port = intFlag(parsed.values.port, "--port", 0) ?? 8017;
  if (port > 65535) throw new UsageError(`--port needs a port number up to 65535, got ${port}`);
  const host = parsed.values.host ?? "127.0.0.1";
  const pkg = loadModelPackage(parsed.values.model);
  const server = pageServer(pageRoutes(pkg));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  process.stdout.write(`nast serve: http://${shown}:${address.port}/ (model ${pkg.dir}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  });
  return 0;
}
