// The functions passed to page.evaluate run in the page: they are typed against the DOM.
/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { REPOSITORY, frames, scratchDirectory } from '../integration/support/frames-cli';
import { SCENES, failingProcessor, scenesVideo } from './support/report-fixture';

/**
 * The report as a person sees it: `frames run --report` on a generated video with two scene cuts
 * through a processor that fails some frames, then the file opened from disk in headless Chromium
 * (Debian's package; `.ci/run` installs it). It checks what was drawn, not only what the HTML says:
 * canvases with pixels, cut lines and failure triangles in their colours where the frames are,
 * thumbnails decoded, and a click on a chart point showing that frame. It saves the screenshot the
 * README shows.
 */
const CHROMIUM = '/usr/bin/chromium';
// As root, with no sandbox; and none of Chromium's own network traffic (this machine has no network).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * The README's picture is rewritten only when asked (UPDATE_SCREENSHOT=1): a test run leaves the
 * checkout as it found it, and the screenshot is taken into a scratch file otherwise.
 */
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(REPOSITORY, 'docs', 'report-screenshot.png') : join(tmpdir(), `frames-report-screenshot-${process.pid}.png`);
const COLORS = { cut: [0xe6, 0x77, 0x00], failed: [0xe0, 0x31, 0x31] };

const scratch = scratchDirectory('browser-report');
let browser: Browser;
let page: Page;
let reportUrl: string;
const requests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  const video = join(scratch.path, 'scenes.mp4');
  await scenesVideo(video);
  const run = await frames(
    ['run', video, '--fps', String(SCENES.fps), '--processor', failingProcessor(scratch.path), '--report', '--json', '--data-dir', join(scratch.path, 'data')],
    { timeoutMs: 240_000 },
  );
  if (run.code !== 0) throw new Error(`frames run --report exited ${run.code}: ${run.stderr}`);
  reportUrl = pathToFileURL((run.reports[0] as unknown as { report: string }).report).href;

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  await page.goto(reportUrl);
  await page.waitForFunction(() => (window as unknown as { frameReport?: { ready: boolean } }).frameReport?.ready === true);
});

afterAll(async () => {
  await browser?.close();
  scratch.remove();
});

/** Pixels of a chart's canvas, in canvas (device) pixels. */
interface ChartPixels {
  readonly key: string;
  readonly painted: number;
  readonly cutColumns: number[][][];
  readonly failedFeet: number[][][];
  readonly cutMarkers: string;
  readonly failedMarkers: string;
}

function chartPixels(): Promise<ChartPixels[]> {
  return page.evaluate(() => {
    type Plot = {
      root: HTMLElement;
      ctx: CanvasRenderingContext2D;
      bbox: { left: number; top: number; width: number; height: number };
      valToPos(value: number, scale: string, canvasPixels?: boolean): number;
    };
    const report = (window as unknown as { frameReport: { charts: { key: string; plot: Plot }[] } }).frameReport;
    const data = JSON.parse(document.getElementById('report-data')!.textContent!) as { chart: { cuts: { t: number }[]; failed: { t: number }[] } };
    const rgba = (context: CanvasRenderingContext2D, x: number, y: number, width: number, height: number) => {
      const { data: bytes } = context.getImageData(x, y, width, height);
      const pixels: number[][] = [];
      for (let at = 0; at < bytes.length; at += 4) pixels.push([bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!]);
      return pixels;
    };
    return report.charts.map(({ key, plot }) => {
      const { ctx, bbox } = plot;
      const all = rgba(ctx, bbox.left, bbox.top, bbox.width, bbox.height);
      return {
        key,
        // Drawn pixels: opaque and not white (the canvas starts transparent).
        painted: all.filter(([r, g, b, a]) => a! > 200 && (r! < 230 || g! < 230 || b! < 230)).length,
        // A 5-pixel-wide column down the plot at each cut, and the foot of the plot at each failed frame.
        cutColumns: data.chart.cuts.map((cut) => rgba(ctx, Math.round(plot.valToPos(cut.t, 'x', true)) - 2, bbox.top, 5, bbox.height)),
        failedFeet: data.chart.failed.map((frame) => rgba(ctx, Math.round(plot.valToPos(frame.t, 'x', true)) - 3, bbox.top + bbox.height - 8, 7, 8)),
        cutMarkers: plot.root.dataset.cutMarkers ?? '',
        failedMarkers: plot.root.dataset.failedMarkers ?? '',
      };
    });
  });
}

const near = (pixel: number[], color: number[]) => pixel[3]! > 200 && color.every((channel, at) => Math.abs(pixel[at]! - channel) <= 40);

test('opens from disk with nothing fetched and no error', () => {
  expect(problems).toEqual([]);
  expect(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual([]);
});

test('draws a chart per output of the default processor, each with the cuts and failed frames marked', async () => {
  const charts = await chartPixels();
  expect(charts.map((chart) => chart.key)).toEqual(['meanLuminance', 'sharpness', 'phash.distance']);
  for (const chart of charts) {
    expect(chart.painted).toBeGreaterThan(500);
    expect(chart.cutMarkers).toBe(String(SCENES.cuts.length));
    expect(chart.failedMarkers).toBe(String(SCENES.failed.length));
    // Each cut's dashed line is there in its colour, and each failed frame's triangle at the foot.
    for (const column of chart.cutColumns) expect(column.filter((pixel) => near(pixel, COLORS.cut)).length).toBeGreaterThan(20);
    for (const foot of chart.failedFeet) expect(foot.filter((pixel) => near(pixel, COLORS.failed)).length).toBeGreaterThan(5);
  }
});

test('shows every frame as a decoded thumbnail, cuts and failed frames marked with their errors', async () => {
  const images = await page.$$eval('#contact-sheet img', (elements) => (elements as HTMLImageElement[]).map((image) => [image.complete, image.naturalWidth, image.naturalHeight]));
  expect(images).toHaveLength(SCENES.frames);
  for (const [complete, width, height] of images) expect([complete, width, height]).toEqual([true, 160, 90]);
  expect(await page.$$eval('#contact-sheet figure.cut', (figures) => figures.map((figure) => Number((figure as HTMLElement).dataset.index)))).toEqual([...SCENES.cuts]);
  const failed = await page.$$eval('#contact-sheet figure.failed', (figures) =>
    figures.map((figure) => [Number((figure as HTMLElement).dataset.index), figure.querySelector('.frame-error')?.textContent ?? '']),
  );
  expect(failed.map(([index]) => index)).toEqual([...SCENES.failed]);
  for (const [index, error] of failed) expect(error).toBe(`RangeError: no detector output for frame ${index} (failed 3 of 3 attempts)`);
  // Shown, not just present: the marked figures have their coloured border.
  expect(await page.$eval('#frame-20', (figure) => getComputedStyle(figure).borderTopColor)).toBe('rgb(230, 119, 0)');
  expect(await page.$eval(`#frame-${SCENES.failed[0]}`, (figure) => getComputedStyle(figure).borderTopColor)).toBe('rgb(224, 49, 49)');
});

/** Clicks the point of `frame` on a chart (at its value, or mid-height for a failed frame). */
async function clickFrame(chartKey: string, frame: number): Promise<void> {
  const point = await page.evaluate(
    ({ chartKey, frame }) => {
      type Plot = { over: HTMLElement; valToPos(value: number, scale: string): number; data: (number | null)[][] };
      const report = (window as unknown as { frameReport: { charts: { key: string; plot: Plot }[] } }).frameReport;
      const { plot } = report.charts.find((chart) => chart.key === chartKey)!;
      const data = JSON.parse(document.getElementById('report-data')!.textContent!) as { chart: { frames: number[] } };
      const position = data.chart.frames.indexOf(frame);
      plot.over.scrollIntoView({ block: 'center' });
      const box = plot.over.getBoundingClientRect();
      const value = plot.data[1]![position];
      return {
        x: box.left + plot.valToPos(plot.data[0]![position]!, 'x'),
        y: value == null ? box.top + box.height / 2 : box.top + plot.valToPos(value, 'y'),
      };
    },
    { chartKey, frame },
  );
  await page.mouse.move(point.x, point.y);
  await page.mouse.click(point.x, point.y);
}

test('a click on a chart point shows that frame, its values, and whether it is a cut or failed', async () => {
  const cut = SCENES.cuts[1]!;
  await clickFrame('meanLuminance', cut);
  await page.waitForFunction((frame) => document.getElementById('frame-detail')!.dataset.frame === String(frame), cut);
  const shown = await page.$eval('#frame-detail', (detail) => ({
    heading: detail.querySelector('h3')!.textContent,
    image: (detail.querySelector('img.detail-image') as HTMLImageElement).src,
    width: (detail.querySelector('img.detail-image') as HTMLImageElement).naturalWidth,
    text: detail.textContent,
  }));
  expect(shown.heading).toBe(`Frame #${cut} · 0:04.000`);
  expect(shown.image).toBe(await page.$eval(`#frame-${cut} img`, (image) => (image as HTMLImageElement).src));
  expect(shown.width).toBe(160);
  expect(shown.text).toMatch(/Scene cut: \d+ bits from the previous frame\./);
  expect(shown.text).toContain('Mean luminance');
  expect(await page.$eval(`#frame-${cut}`, (figure) => figure.classList.contains('selected'))).toBe(true);

  const failed = SCENES.failed[3]!;
  await clickFrame('sharpness', failed);
  await page.waitForFunction((frame) => document.getElementById('frame-detail')!.dataset.frame === String(frame), failed);
  expect(await page.$eval('#frame-detail', (detail) => detail.textContent)).toContain(`Failed: RangeError: no detector output for frame ${failed} (failed 3 of 3 attempts)`);
});

test('saves the screenshot the README shows', async () => {
  // A frame chosen, so the picture shows what a click does.
  await clickFrame('meanLuminance', SCENES.cuts[1]!);
  await page.evaluate(() => window.scrollTo(0, 0));
  // Down to the contact sheet's first row: the summary, every chart, and some thumbnails.
  const height = await page.$eval('#contact-sheet figure', (figure) => Math.ceil(figure.getBoundingClientRect().bottom + window.scrollY + 16));
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  const png = await page.screenshot({ path: SCREENSHOT, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });
  expect(png.subarray(1, 4).toString()).toBe('PNG');
});
