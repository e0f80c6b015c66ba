/**
 * Opens a report page in headless Chromium (playwright-core, driving the system's Chromium:
 * playwright's own browser download does not work offline) and takes a full-page screenshot.
 * Every request that is not the page itself or a data: URI is aborted and recorded, so a page
 * that reaches for the network (a font, a script) shows up as a failed request rather than
 * loading it. Used by `scripts/screenshot.mjs` and the browser test.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The Chromium binary: $MBB_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.MBB_CHROMIUM || '/usr/bin/chromium';
}

export function hasChromium(): boolean {
  return existsSync(chromiumPath());
}

export interface PageCheck {
  /** console.error messages and uncaught page errors. */
  consoleErrors: string[];
  /** Requests that failed, including every one aimed beyond the page (aborted on purpose). */
  failedRequests: string[];
  /** Dialogs the page opened (alert, confirm, prompt, beforeunload), each dismissed: a report has none. */
  dialogs: string[];
  /** Elements per data-* selector given in `count`. */
  counts: Record<string, number>;
  /** <img> elements the browser could not decode (e.g. a broken data: URI). */
  brokenImages: number;
  screenshot: string;
}

/**
 * Loads `htmlPath`, waits for it to settle, counts the elements matching each selector of
 * `count`, and writes a full-page PNG to `screenshot` (default: report.png beside the page).
 */
export async function checkPage(htmlPath: string, opts: { screenshot?: string; count?: string[]; width?: number } = {}): Promise<PageCheck> {
  const page = resolve(htmlPath);
  if (!existsSync(page)) throw new Error(`${page}: no such report; run \`mbb report --out DIR\` first`);
  if (!hasChromium()) throw new Error(`${chromiumPath()}: Chromium not found; install it (apt-get install chromium) or set MBB_CHROMIUM`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 900 }, deviceScaleFactor: 1 });
    const pageUrl = pathToFileURL(page).href;
    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      return url === pageUrl || url.startsWith('data:') ? route.continue() : route.abort('blockedbyclient');
    });
    const tab = await context.newPage();
    tab.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    tab.on('pageerror', (e) => consoleErrors.push(e.message));
    const dialogs: string[] = [];
    tab.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message().slice(0, 120)}`);
      void d.dismiss();
    });
    tab.on('requestfailed', (r) => failedRequests.push(`${r.url().slice(0, 120)}: ${r.failure()?.errorText ?? 'failed'}`));
    await tab.goto(pageUrl, { waitUntil: 'load' });
    const counts: Record<string, number> = {};
    for (const sel of opts.count ?? []) counts[sel] = await tab.locator(sel).count();
    const brokenImages = await tab.locator('img').evaluateAll((imgs) => imgs.filter((i) => !(i as HTMLImageElement).complete || (i as HTMLImageElement).naturalWidth === 0).length);
    const screenshot = opts.screenshot ?? join(resolve(page, '..'), 'report.png');
    await tab.screenshot({ path: screenshot, fullPage: true });
    return { consoleErrors, failedRequests, dialogs, counts, brokenImages, screenshot };
  } finally {
    await browser.close();
  }
}
