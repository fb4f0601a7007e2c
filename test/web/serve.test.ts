// `nast serve`'s server: only the entries of its route table, never a path built from the URL (dot
// segments, encoded slashes and other files of the same directories get a 404), the cross-origin-isolation
// headers on every response, GET and HEAD only.
import assert from "node:assert/strict";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { pageServer } from "../../src/serve/page-server.ts";
import type { Route } from "../../src/serve/page-routes.ts";
import { REPO_ROOT } from "../helpers/cli.ts";

const routes = new Map<string, Route>([
  ["/", { body: new TextEncoder().encode("<p>page</p>"), type: "text/html" }],
  ["/model/config.json", { body: { file: join(REPO_ROOT, "models/default/config.json") }, type: "application/json" }],
]);
const server = pageServer(routes);
let port = 0;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(path: string, method = "GET"): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("the table's entries, with the cross-origin-isolation headers", async () => {
  for (const path of ["/", "/model/config.json", "/model/config.json?v=1"]) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers["cross-origin-opener-policy"], "same-origin");
    assert.equal(r.headers["cross-origin-embedder-policy"], "require-corp");
  }
  assert.match((await get("/model/config.json")).body, /"vocabSize"/);
  const head = await get("/", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
});

test("nothing else: traversal, encoded paths, other files, other methods", async () => {
  for (const path of ["/../package.json", "/model/../package.json", "/model/%2e%2e/package.json", "/model/..%2fpackage.json", "/model/model.onnx", "/model/", "//etc/passwd", "/index.html/"]) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers["cross-origin-embedder-policy"], "require-corp");
  }
  assert.equal((await get("/", "POST")).status, 405);
});
