// Drives the page of `nast serve` in Debian's chromium through playwright-core (which downloads no
// browser: playwright.dev/docs/api/class-browsertype#browser-type-launch, executablePath), for the page's
// test (test/web/page.test.ts) and its benchmark (scripts/bench-web.ts). Every request that is not to the
// server's own loopback origin is blocked and recorded.
import type { ChildProcess } from "node:child_process";
import { chromium, type Browser, type Page } from "playwright-core";
import { startNast } from "./cli.ts";

export const CHROMIUM = "/usr/bin/chromium";

export interface Served {
  origin: string;
  stop(): Promise<void>;
}

/** `nast serve --port 0` from the source tree; resolves once it has printed its address. */
export async function startServe(args: string[] = []): Promise<Served> {
  const child: ChildProcess = startNast(["serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const origin = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.once("exit", (code) => reject(new Error(`nast serve exited (${code}) before it printed its address: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    origin,
    stop: async () => {
      child.kill("SIGINT");
      const code = await exited;
      if (code !== 0) throw new Error(`nast serve exited with ${code} on SIGINT: ${err}`);
    },
  };
}

export interface OpenPage {
  browser: Browser;
  page: Page;
  /** Requests to anywhere but the origin (blocked). */
  blocked: string[];
  /** Seconds from navigation until the model was loaded (the page's own measure). */
  loadSeconds: number;
}

/** The page at `origin` + `search`, once its model is loaded (or it failed to load). */
export async function openPage(origin: string, search = ""): Promise<OpenPage> {
  // The microphone is chromium's fake device (a beep), allowed without asking.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"] });
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  await context.grantPermissions(["microphone"], { origin });
  const page = await context.newPage();
  const blocked: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  await page.goto(`${origin}/${search}`);
  await page.waitForSelector("body:not([data-state=loading])", { timeout: 120_000 });
  const loadSeconds = Number(await page.getAttribute("body", "data-load-seconds"));
  return { browser, page, blocked, loadSeconds };
}

export interface PageRun {
  state: string;
  translation: string;
  error: string;
  /** The page's own measures: seconds of translation, seconds of audio. */
  seconds: number;
  duration: number;
}

/** Feeds a file through the page's file input and waits for its translation (or its error). */
export async function translateOnPage(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }): Promise<PageRun> {
  await page.evaluate(() => (document.body.dataset.state = "ready"));
  await page.setInputFiles("#file", file);
  await page.waitForSelector("body[data-state=done], body[data-state=error]", { timeout: 120_000 });
  const text = async (sel: string): Promise<string> => (await page.textContent(sel)) ?? "";
  return {
    state: (await page.getAttribute("body", "data-state")) ?? "",
    translation: await text("#translation"),
    error: (await page.isVisible("#error")) ? await text("#error") : "",
    seconds: Number(await page.getAttribute("body", "data-translate-seconds")),
    duration: Number(await page.getAttribute("body", "data-audio-seconds")),
  };
}
