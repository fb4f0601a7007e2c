#!/usr/bin/env node
// Builds kernels/build/nast_torch.node (the N-API binding to libtorch) by calling g++ directly, so the same
// script works where only a node binary, g++ and a libtorch exist (the GPU host has no npm or node-gyp).
//
// libtorch is looked for, in order:
//   1. LIBTORCH=<root holding include/ and lib/>
//   2. a Python torch install (`python3 -c 'import torch'`; PYTHON=<interpreter> overrides), which is a
//      complete libtorch, CUDA included for CUDA wheels (docs/gpu.md §2)
//   3. Debian's libtorch-dev (headers in /usr/include, libraries in /usr/lib/<multiarch>)
// Node's headers: NODE_API_HEADERS=<dir holding node_api.h and napi.h> (what `--stage-headers DIR` writes),
// else Node's own include dir, /usr/include/node or node-gyp's cache, plus node-addon-api from node_modules.
//
// Usage: node scripts/build-kernels.mjs [--stage-headers DIR]
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "kernels", "src", "nast_torch.cc");
const outDir = join(root, "kernels", "build");
const output = join(outDir, "nast_torch.node");

const NODE_HEADERS = ["node_api.h", "node_api_types.h", "js_native_api.h", "js_native_api_types.h"];
const NAPI_HEADERS = ["napi.h", "napi-inl.h", "napi-inl.deprecated.h"];

function fail(message) {
  process.stderr.write(`build-kernels: ${message}\n`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function nodeIncludeDir() {
  const candidates = [
    process.env.NODE_API_HEADERS,
    join(dirname(process.execPath), "..", "include", "node"),
    "/usr/include/node",
    join(homedir(), ".cache", "node-gyp", process.versions.node, "include", "node"),
  ];
  for (const dir of candidates) {
    if (dir && NODE_HEADERS.every((h) => existsSync(join(dir, h)))) return dir;
  }
  return fail(
    "Node's N-API headers (node_api.h) not found: set NODE_API_HEADERS to a directory holding them " +
      "(`node scripts/build-kernels.mjs --stage-headers DIR` on a machine with npm writes one).",
  );
}

function napiIncludeDir() {
  const staged = process.env.NODE_API_HEADERS;
  if (staged && NAPI_HEADERS.every((h) => existsSync(join(staged, h)))) return staged;
  try {
    const require = createRequire(join(root, "package.json"));
    const dir = dirname(require.resolve("node-addon-api/package.json"));
    if (existsSync(join(dir, "napi.h"))) return dir;
  } catch {
    // not installed: fall through to the error below
  }
  return fail("node-addon-api headers (napi.h) not found: run `npm ci`, or set NODE_API_HEADERS.");
}

/** A libtorch: where its headers and libraries are, which C++ ABI it was built with, and whether it has CUDA. */
function findLibtorch() {
  const env = process.env.LIBTORCH;
  if (env) {
    const lib = join(env, "lib");
    if (!existsSync(join(env, "include", "torch")) || !existsSync(join(lib, "libtorch.so"))) {
      fail(`LIBTORCH=${env} does not hold include/torch and lib/libtorch.so`);
    }
    return { source: `LIBTORCH=${env}`, include: join(env, "include"), lib, rpath: true, abi: abiFromLibrary(lib) };
  }
  const python = process.env.PYTHON ?? "python3";
  const info = run(python, [
    "-c",
    "import torch,os;print(os.path.dirname(torch.__file__));print(int(torch._C._GLIBCXX_USE_CXX11_ABI));print(torch.__version__)",
  ]);
  if (info) {
    const [dir, abi, version] = info.split("\n");
    const lib = join(dir, "lib");
    // Debian's python3-torch has no headers or libraries inside the package: fall through to libtorch-dev.
    if (existsSync(join(dir, "include", "torch")) && existsSync(join(lib, "libtorch.so"))) {
      return { source: `Python torch ${version} at ${dir}`, include: join(dir, "include"), lib, rpath: true, abi: Number(abi) };
    }
  }
  const multiarch = run("gcc", ["-print-multiarch"]) || "x86_64-linux-gnu";
  const lib = join("/usr/lib", multiarch);
  if (existsSync("/usr/include/torch/csrc") && existsSync(join(lib, "libtorch.so"))) {
    return { source: `Debian libtorch-dev (${lib})`, include: "/usr/include", lib, rpath: false, abi: abiFromLibrary(lib) };
  }
  return fail(
    "libtorch not found. Install it (Debian 12: `sudo apt-get install libtorch-dev libopenblas0-pthread`), " +
      "or set LIBTORCH to a libtorch root, or make `python3 -c 'import torch'` work.",
  );
}

// libstdc++'s new ABI mangles std::string as std::__cxx11::basic_string; a library built with the old ABI
// has no such symbols.
function abiFromLibrary(lib) {
  if (process.env.NAST_CXX11_ABI) return Number(process.env.NAST_CXX11_ABI);
  const symbols = run("nm", ["-D", "--defined-only", join(lib, "libc10.so")]);
  if (symbols === undefined) return 1;
  return symbols.includes("__cxx11") ? 1 : 0;
}

/**
 * The c10d backends that can be compiled against this libtorch: Gloo where the gloo headers exist (Debian:
 * libgloo-dev, the gloo Debian's libtorch links; CUDA PyTorch wheels ship none), NCCL in a CUDA build where
 * nccl.h and the CUDA runtime headers are found (ProcessGroupNCCL.hpp includes both).
 */
function distributedFlags(torch, cuda) {
  const flags = [];
  const notes = [];
  const glooDir = [torch.include, "/usr/include"].find((d) => existsSync(join(d, "gloo", "config.h")));
  if (glooDir) {
    flags.push("-DUSE_C10D_GLOO", ...(glooDir === torch.include ? [] : [`-I${glooDir}`]));
    notes.push(`Gloo (headers in ${glooDir})`);
  } else {
    notes.push("no Gloo (no gloo/config.h; Debian: apt-get install libgloo-dev)");
  }
  if (cuda) {
    const site = dirname(dirname(torch.include));
    const ncclDir = [process.env.NCCL_INCLUDE, join(site, "nvidia", "nccl", "include"), "/usr/include", "/usr/local/cuda/include"]
      .find((d) => d && existsSync(join(d, "nccl.h")));
    const cudaDir = [process.env.CUDA_HOME && join(process.env.CUDA_HOME, "include"), "/usr/local/cuda/include", join(site, "nvidia", "cuda_runtime", "include"), join(site, "nvidia", "cu13", "include"), "/usr/include"]
      .find((d) => d && existsSync(join(d, "cuda_runtime_api.h")));
    if (ncclDir && cudaDir) {
      flags.push("-DUSE_C10D_NCCL", `-I${cudaDir}`, ...(ncclDir === cudaDir ? [] : [`-I${ncclDir}`]));
      notes.push(`NCCL (nccl.h in ${ncclDir}, CUDA headers in ${cudaDir})`);
    } else {
      notes.push(`no NCCL (${ncclDir ? "" : "nccl.h "}${cudaDir ? "" : "cuda_runtime_api.h "}not found; set NCCL_INCLUDE or CUDA_HOME)`);
    }
  }
  return { flags, note: notes.join(", "), nccl: flags.includes("-DUSE_C10D_NCCL") };
}

function stageHeaders(dir) {
  mkdirSync(dir, { recursive: true });
  const node = nodeIncludeDir();
  const napi = napiIncludeDir();
  for (const h of NODE_HEADERS) copyFileSync(join(node, h), join(dir, h));
  for (const h of NAPI_HEADERS) copyFileSync(join(napi, h), join(dir, h));
  process.stdout.write(`build-kernels: staged N-API headers in ${dir} (use NODE_API_HEADERS=${dir})\n`);
}

function build() {
  const torch = findLibtorch();
  const cuda = existsSync(join(torch.lib, "libtorch_cuda.so"));
  process.stdout.write(`build-kernels: libtorch from ${torch.source}\n`);
  process.stdout.write(`build-kernels: CUDA libraries ${cuda ? "present (libtorch_cuda.so)" : "absent (CPU-only libtorch)"}\n`);
  const dist = distributedFlags(torch, cuda);
  process.stdout.write(`build-kernels: distributed: ${dist.note}\n`);
  const nodeInc = nodeIncludeDir();
  const napiInc = napiIncludeDir();
  mkdirSync(outDir, { recursive: true });
  const cxx = process.env.CXX ?? "g++";
  const args = (distFlags) => [
    "-O2",
    "-std=c++17",
    "-shared",
    "-fPIC",
    "-fvisibility=hidden",
    "-DNAPI_VERSION=8",
    "-DNODE_ADDON_API_DISABLE_DEPRECATED",
    `-D_GLIBCXX_USE_CXX11_ABI=${torch.abi}`,
    `-I${napiInc}`,
    `-I${nodeInc}`,
    `-I${torch.include}`,
    `-I${join(torch.include, "torch", "csrc", "api", "include")}`,
    ...distFlags,
    source,
    "-o",
    output,
    `-L${torch.lib}`,
    ...(torch.rpath ? [`-Wl,-rpath,${torch.lib}`] : []),
    // Without --no-as-needed the linker drops libtorch_cuda (nothing references it by symbol) and CUDA
    // then reports "not available" at run time (docs/gpu.md §2.3).
    "-Wl,--no-as-needed",
    "-ltorch",
    "-ltorch_cpu",
    "-lc10",
    ...(cuda ? ["-ltorch_cuda", "-lc10_cuda"] : []),
    "-Wl,--as-needed",
  ];
  process.stdout.write(`build-kernels: ${cxx} ${args(dist.flags).join(" ")}\n`);
  const t0 = Date.now();
  let r = spawnSync(cxx, args(dist.flags), { stdio: dist.nccl ? ["ignore", "inherit", "pipe"] : "inherit", encoding: "utf8" });
  // ProcessGroupNCCL.hpp pulls in much of a CUDA PyTorch's headers: a host where they do not compile still
  // gets a working (CUDA) build, without NCCL, and the first errors say why.
  if (r.status !== 0 && dist.nccl) {
    const errors = (r.stderr ?? "").split("\n").filter((l) => l.includes("error")).slice(0, 5).join("\n");
    process.stdout.write(`build-kernels: the build with NCCL failed; building without it. First errors:\n${errors}\n`);
    r = spawnSync(cxx, args(dist.flags.filter((f) => f !== "-DUSE_C10D_NCCL")), { stdio: "inherit" });
  } else if (r.stderr) {
    process.stderr.write(r.stderr);
  }
  if (r.status !== 0) fail(`compilation failed (exit ${r.status ?? r.signal})`);
  process.stdout.write(`build-kernels: wrote ${output} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  // Load what was built in a fresh process: proves it links and says what it can use.
  const probe = execFileSync(
    process.execPath,
    [
      "-e",
      `const m=require(${JSON.stringify(output)});console.log("build-kernels: libtorch " + m.version() + ", CUDA available: " + m.cudaAvailable() + " (" + m.cudaDeviceCount() + " device(s)), threads: " + m.numThreads() + ", distributed backends: " + (m.distBackends().join(", ") || "none"))`,
    ],
    { encoding: "utf8" },
  );
  process.stdout.write(probe);
  const blas = blasInUse();
  if (blas) process.stdout.write(`build-kernels: BLAS: ${blas}\n`);
}

// Debian's libtorch links the generic libblas.so.3, which the alternatives system points at an
// implementation; the reference BLAS is ~60x slower than OpenBLAS for matmul.
function blasInUse() {
  const alt = run("update-alternatives", ["--query", "libblas.so.3-" + (run("gcc", ["-print-multiarch"]) || "x86_64-linux-gnu")]);
  if (!alt) return undefined;
  const value = alt.split("\n").find((l) => l.startsWith("Value:"));
  if (!value) return undefined;
  const path = value.slice("Value:".length).trim();
  const warn = path.includes("openblas") ? "" : "  WARNING: not OpenBLAS; install libopenblas0-pthread";
  return path + warn;
}

const argv = process.argv.slice(2);
if (argv[0] === "--stage-headers") {
  if (!argv[1]) fail("usage: node scripts/build-kernels.mjs --stage-headers DIR");
  stageHeaders(resolve(argv[1]));
} else if (argv.length > 0) {
  fail(`unknown arguments: ${argv.join(" ")} (usage: node scripts/build-kernels.mjs [--stage-headers DIR])`);
} else {
  build();
}
