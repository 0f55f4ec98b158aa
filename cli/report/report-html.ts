import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChartLibrary } from './chart-library';
import type { ReportModel, SheetEntry } from './report-model';

/**
 * The report as one HTML file that opens from disk: the chart library, the page's own script and
 * style, the data and the thumbnails (data URIs) are all inside it. Its Content-Security-Policy
 * allows nothing but inline script and style and data: images, so the page cannot reach the
 * network even by mistake.
 */

/** The page's own script and style, beside this file (plain browser JavaScript and CSS). */
export interface PageAssets {
  readonly script: string;
  readonly css: string;
}

export function loadPageAssets(): PageAssets {
  const directory = join(__dirname, 'page');
  return { script: readFileSync(join(directory, 'report.js'), 'utf8'), css: readFileSync(join(directory, 'report.css'), 'utf8') };
}

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

export function renderReportHtml(model: ReportModel, library: ChartLibrary, page: PageAssets = loadPageAssets()): string {
  const statusClass = `status-${model.status.toLowerCase()}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="frames report">
<title>Frames report: ${escapeHtml(model.videoId)}</title>
<style>${inlineText(library.css, 'style')}</style>
<style>${inlineText(page.css, 'style')}</style>
</head>
<body>
<header>
<h1><span class="video-id">${escapeHtml(model.videoId)}</span> <span class="status ${statusClass}">${escapeHtml(model.status)}</span></h1>
<p class="subtitle">Run ${escapeHtml(model.runId)} · report made ${escapeHtml(model.generatedAt)}</p>
</header>
<main>
<section id="summary">
<h2>Summary</h2>
<table class="facts">
${model.facts.map(([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n')}
</table>
${model.error ? `<p class="run-error" role="alert"><strong>${escapeHtml(model.error.code)}</strong>: ${escapeHtml(model.error.message)}</p>` : ''}
${model.notes.length > 0 ? `<ul class="notes">\n${model.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('\n')}\n</ul>` : ''}
</section>
<section id="timeline">
<h2>Over time</h2>
${
  model.chart
    ? `<p class="legend"><span class="swatch swatch-cut"></span>scene cut (${model.cutCount}) <span class="swatch swatch-failed"></span>failed frame (${model.failureCount}) <span class="hint">Click a point to see its frame; drag to zoom, double-click to zoom out.</span></p>`
    : ''
}
<div class="timeline-layout">
<div id="charts">${model.chart ? '' : '<p class="empty">No charts: this run has no results.</p>'}</div>
<aside id="frame-detail" aria-live="polite"><p class="hint">Click a point on a chart, or a thumbnail, to see that frame here.</p></aside>
</div>
</section>
<section id="contact-sheet">
<h2>Contact sheet</h2>
${
  model.sheet.some((entry) => entry.src)
    ? `<div class="sheet">\n${model.sheet.map(sheetFigure).join('\n')}\n</div>`
    : `<p class="empty">${model.sheet.length > 0 ? 'No thumbnails: see the notes in the summary.' : 'No thumbnails in this report.'}</p>`
}
</section>
<section id="cuts">
<h2>Scene cuts (${model.cutCount})</h2>
${frameTable(model.cuts, model.cutCount, 'Distance', 'cut')}
</section>
<section id="failures">
<h2>Failed frames (${model.failureCount})</h2>
${frameTable(model.failures, model.failureCount, 'Error', 'failed')}
</section>
</main>
<footer>Made by <code>frames report</code>. Charts drawn with ${escapeHtml(library.name)} ${escapeHtml(library.version)} (${escapeHtml(library.license)} license), inlined in this file.</footer>
<script type="application/json" id="report-data">${jsonForScript({ chart: model.chart ?? null, failures: model.failures })}</script>
<script>${inlineText(library.script, 'script')}</script>
<script>${inlineText(page.script, 'script')}</script>
</body>
</html>
`;
}

function sheetFigure(entry: SheetEntry): string {
  const classes = ['thumb', ...entry.reasons.filter((reason) => reason !== 'sample')];
  if (entry.error && !classes.includes('failed')) classes.push('failed');
  if (!entry.src) classes.push('missing');
  const badges = [
    entry.cutDistance !== undefined ? `<span class="badge badge-cut">cut · ${entry.cutDistance} bits</span>` : '',
    entry.reasons.includes('before-cut') ? '<span class="badge badge-before">before a cut</span>' : '',
    entry.error ? '<span class="badge badge-failed">failed</span>' : '',
  ].join('');
  const image = entry.src
    ? `<img src="${escapeHtml(entry.src)}" alt="frame ${entry.index}">`
    : `<div class="no-image" title="${escapeHtml(entry.missing ?? '')}">no image</div>`;
  return (
    `<figure class="${classes.join(' ')}" id="frame-${entry.index}" data-index="${entry.index}" data-time="${escapeHtml(entry.time)}">${image}` +
    `<figcaption><span class="frame-no">#${entry.index}</span> <span class="time">${escapeHtml(entry.time)}</span>${badges}` +
    `${entry.error ? `<span class="frame-error">${escapeHtml(entry.error)}</span>` : ''}</figcaption></figure>`
  );
}

function frameTable(rows: ReportModel['cuts'], count: number, detail: string, kind: string): string {
  if (count === 0) return `<p class="empty">None.</p>`;
  const more = count > rows.length ? `<p class="more">The first ${rows.length} of ${count}; results.jsonl names every one.</p>` : '';
  return (
    `<table class="frames frames-${kind}"><thead><tr><th>Frame</th><th>Time</th><th>${detail}</th></tr></thead><tbody>\n` +
    rows
      .map((row) => `<tr data-index="${row.index}"><td>${row.index}</td><td>${escapeHtml(row.time)}</td><td>${escapeHtml(row.detail)}</td></tr>`)
      .join('\n') +
    `\n</tbody></table>${more}`
  );
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** JSON inside a script element: `<` escaped, so no string in it can close the element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Script or style text inside its element: an end tag in it would end the element early. `<\/`
 * means the same as `</` in JavaScript strings, regular expressions and comments, and in CSS.
 */
function inlineText(text: string, element: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1');
}
