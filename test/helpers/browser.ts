// Headless Debian Chromium driven by playwright-core (no browser download): the launch flags this
// closed network needs, and a page that records console errors and every request it sends.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page, type Request } from "playwright-core";

export const CHROMIUM = process.env.DAS_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
export const SKIP_NO_CHROMIUM = `skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set DAS_CHROMIUM)`;
if (!hasChromium) console.warn(SKIP_NO_CHROMIUM);

/**
 * Without the background-networking flags Chromium keeps opening connections that this network
 * refuses; --no-sandbox because tests may run as root. playwright-core gives each launch a new empty profile.
 */
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

export interface SentRequest {
  readonly method: string;
  readonly url: string;
  readonly body: Buffer | null;
}

export interface WatchedPage {
  readonly page: Page;
  /** console.error messages and uncaught exceptions, in order. */
  readonly errors: string[];
  readonly requests: SentRequest[];
}

/** A new page (own context: no storage shared with other pages) that records errors and requests. */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: SentRequest[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(`console.error: ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  // The context's log: the page's requests and its workers' (onnxruntime-web's threads).
  context.on("request", (r: Request) => requests.push({ method: r.method(), url: r.url(), body: r.postDataBuffer() }));
  return { page, errors, requests };
}
