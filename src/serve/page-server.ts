// The HTTP server of `nast serve`: GET and HEAD of the entries of ./page-routes.ts, nothing else. Every
// response carries the cross-origin-isolation headers (Cross-Origin-Opener-Policy: same-origin,
// Cross-Origin-Embedder-Policy: require-corp; web.dev/articles/coop-coep), without which the page gets no
// SharedArrayBuffer and onnxruntime-web runs on one thread.
import { createServer, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import type { Route } from "./page-routes.ts";

const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-cache",
};

function reply(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...HEADERS, "Content-Type": "text/plain; charset=utf-8", ...extra });
  res.end(`${text}\n`);
}

export function pageServer(routes: ReadonlyMap<string, Route>): Server {
  return createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return reply(res, 405, "method not allowed", { Allow: "GET, HEAD" });
    const path = (req.url ?? "").split("?")[0]!;
    const route = routes.get(path);
    if (route === undefined) return reply(res, 404, "not found");
    const body = route.body;
    (body instanceof Uint8Array ? Promise.resolve(body) : readFile(body.file)).then(
      (bytes) => {
        res.writeHead(200, { ...HEADERS, "Content-Type": route.type, "Content-Length": String(bytes.length) });
        res.end(req.method === "HEAD" ? undefined : bytes);
      },
      () => reply(res, 500, "cannot read it"),
    );
  });
}
