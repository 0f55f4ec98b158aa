import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The charting library the report inlines: uPlot (MIT), read from node_modules when a report is
 * written, so the file needs no network and no server. Why uPlot: it is made for time series (the
 * report's every chart), draws on canvas and stays fast with tens of thousands of points, and is
 * one 51 KB script plus 2 KB of CSS; Chart.js is about four times that and slower on long series,
 * ECharts about twenty times. It is maintained (1.6.32) and has no dependencies.
 */
export interface ChartLibrary {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly script: string;
  readonly css: string;
}

const PACKAGE = 'uplot';

export function loadChartLibrary(): ChartLibrary {
  const manifestPath = require.resolve(`${PACKAGE}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string; license: string };
  const dist = join(dirname(manifestPath), 'dist');
  return {
    name: 'uPlot',
    version: manifest.version,
    license: manifest.license,
    script: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8'),
  };
}
