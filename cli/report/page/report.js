/*
 * The report page's own script (cli/report/report-html.ts inlines it after uPlot). It draws one
 * chart per series of the run's results with uPlot, marks every scene cut (dashed line) and failed
 * frame (triangle at the foot) on each chart, keeps the charts' cursors and zoom together, and shows
 * a frame when a chart point, a thumbnail or a table row is clicked. Plain browser JavaScript: the
 * page opens from a file, with no module loader and no network.
 */
(function () {
  'use strict';

  var COLORS = { cut: '#e67700', failed: '#e03131', threshold: '#868e96' };
  var PALETTE = ['#1971c2', '#2f9e44', '#7048e8', '#0c8599', '#5c940d', '#862e9c', '#364fc7', '#087f5b', '#495057', '#1864ab', '#66a80f'];
  var CHART_HEIGHT = 190;

  var data = JSON.parse(document.getElementById('report-data').textContent);
  var chart = data.chart;
  var detail = document.getElementById('frame-detail');
  var figures = Array.prototype.slice.call(document.querySelectorAll('#contact-sheet figure[data-index]'));
  var withImage = figures
    .filter(function (figure) { return figure.querySelector('img'); })
    .map(function (figure) { return { index: Number(figure.dataset.index), figure: figure, img: figure.querySelector('img') }; });
  var failureText = {};
  data.failures.forEach(function (failure) { failureText[failure.index] = failure.detail; });
  var cutAt = {};
  var failedAt = {};
  if (chart) {
    chart.cuts.forEach(function (cut) { cutAt[cut.i] = cut; });
    chart.failed.forEach(function (failed) { failedAt[failed.i] = failed; });
  }

  var report = { charts: [], select: select, ready: false };
  window.frameReport = report;

  /** The first position in a sorted array whose value is >= the target. */
  function lowerBound(sorted, target, valueOf) {
    var low = 0;
    var high = sorted.length;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (valueOf(sorted[middle]) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) text = '0' + text;
    return text;
  }

  /** Seconds from the start as h:mm:ss.sss (decimals as asked), or seconds since the epoch as UTC. */
  function formatTime(seconds, decimals) {
    if (seconds == null) return '';
    if (chart && chart.absoluteTime) return new Date(seconds * 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
    var scale = Math.pow(10, decimals);
    var whole = Math.round(seconds * scale);
    var total = Math.floor(whole / scale);
    var fraction = decimals > 0 ? '.' + pad(whole % scale, decimals) : '';
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var rest = pad(total % 60, 2) + fraction;
    return hours > 0 ? hours + ':' + pad(minutes, 2) + ':' + rest : minutes + ':' + rest;
  }

  function text(tag, className, content) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (content != null) element.textContent = content;
    return element;
  }

  /** Shows frame `index`: its thumbnail (or the nearest one), its values, and whether it is a cut or failed. */
  function select(index) {
    detail.textContent = '';
    detail.dataset.frame = String(index);
    var time = null;
    var heading = text('h3', null, 'Frame #' + index);
    detail.appendChild(heading);

    figures.forEach(function (figure) { figure.classList.toggle('selected', Number(figure.dataset.index) === index); });
    if (withImage.length > 0) {
      var at = lowerBound(withImage, index, function (entry) { return entry.index; });
      var candidates = [withImage[at - 1], withImage[at]].filter(Boolean);
      var nearest = candidates.sort(function (a, b) { return Math.abs(a.index - index) - Math.abs(b.index - index); })[0];
      var image = document.createElement('img');
      image.src = nearest.img.src;
      image.alt = 'frame ' + nearest.index;
      image.className = 'detail-image';
      image.dataset.index = String(nearest.index);
      detail.appendChild(image);
      if (nearest.index !== index) {
        detail.appendChild(text('p', 'hint', 'No thumbnail of this frame: the nearest, frame #' + nearest.index + ', is shown.'));
      }
    } else {
      detail.appendChild(text('p', 'hint', 'No thumbnails in this report (see the summary\u2019s notes).'));
    }

    var list = document.createElement('dl');
    if (chart) {
      var position = lowerBound(chart.frames, index, function (value) { return value; });
      if (chart.frames[position] === index) {
        time = chart.t[position];
        chart.series.forEach(function (series) {
          list.appendChild(text('dt', null, series.label));
          var value = series.values[position];
          list.appendChild(text('dd', null, value == null ? '\u2014' : String(value)));
        });
      }
      if (time == null && failedAt[index]) time = failedAt[index].t;
      if (time == null && cutAt[index]) time = cutAt[index].t;
    }
    if (time != null) heading.textContent = 'Frame #' + index + ' \u00b7 ' + formatTime(time, 3);
    detail.appendChild(list);
    if (cutAt[index]) detail.appendChild(text('p', 'detail-cut', 'Scene cut: ' + cutAt[index].d + ' bits from the previous frame.'));
    if (failureText[index] || failedAt[index]) {
      detail.appendChild(text('p', 'detail-failed', 'Failed: ' + (failureText[index] || 'see results.jsonl for its error.')));
    }
  }

  /** The cut lines, failed-frame triangles and threshold line, on the chart's canvas after each redraw. */
  function drawMarkers(series) {
    return function (plot) {
      var context = plot.ctx;
      var box = plot.bbox;
      var ratio = window.devicePixelRatio || 1;
      var inside = function (x) { return x >= box.left && x <= box.left + box.width; };
      var cuts = 0;
      var failed = 0;
      context.save();
      context.lineWidth = 2 * ratio;
      context.strokeStyle = COLORS.cut;
      context.setLineDash([6 * ratio, 4 * ratio]);
      chart.cuts.forEach(function (cut) {
        var x = Math.round(plot.valToPos(cut.t, 'x', true));
        if (!inside(x)) return;
        context.beginPath();
        context.moveTo(x, box.top);
        context.lineTo(x, box.top + box.height);
        context.stroke();
        cuts += 1;
      });
      if (series.threshold != null) {
        var y = Math.round(plot.valToPos(series.threshold, 'y', true));
        context.strokeStyle = COLORS.threshold;
        context.lineWidth = ratio;
        context.beginPath();
        context.moveTo(box.left, y);
        context.lineTo(box.left + box.width, y);
        context.stroke();
      }
      context.setLineDash([]);
      context.fillStyle = COLORS.failed;
      var size = 5 * ratio;
      var foot = box.top + box.height;
      chart.failed.forEach(function (frame) {
        var x = Math.round(plot.valToPos(frame.t, 'x', true));
        if (!inside(x)) return;
        context.beginPath();
        context.moveTo(x, foot - 2 * size);
        context.lineTo(x - size, foot);
        context.lineTo(x + size, foot);
        context.closePath();
        context.fill();
        failed += 1;
      });
      context.restore();
      plot.root.dataset.cutMarkers = String(cuts);
      plot.root.dataset.failedMarkers = String(failed);
    };
  }

  /** Axis labels with as many decimals as the step between them needs (0.25 s steps get two). */
  function axisValues(plot, splits) {
    var step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
    var decimals = 0;
    while (decimals < 3 && Math.abs(step * Math.pow(10, decimals) - Math.round(step * Math.pow(10, decimals))) > 1e-6) decimals += 1;
    return splits.map(function (split) { return formatTime(split, decimals); });
  }

  var syncingZoom = false;
  function shareZoom(plot, key) {
    if (key !== 'x' || syncingZoom) return;
    syncingZoom = true;
    report.charts.forEach(function (other) {
      if (other.plot !== plot) other.plot.setScale('x', { min: plot.scales.x.min, max: plot.scales.x.max });
    });
    syncingZoom = false;
  }

  function drawCharts() {
    var container = document.getElementById('charts');
    var width = Math.max(320, container.clientWidth);
    chart.series.forEach(function (series, at) {
      var holder = text('div', 'chart');
      holder.dataset.series = series.key;
      container.appendChild(holder);
      var options = {
        title: series.label,
        width: width,
        height: CHART_HEIGHT,
        cursor: { sync: { key: 'frames-report' }, drag: { x: true, y: false } },
        scales: {
          x: { time: chart.absoluteTime },
          y: series.threshold != null
            ? { range: function (plot, min, max) { return [0, Math.max(max == null ? 0 : max, series.threshold + 4)]; } }
            : {},
        },
        axes: [chart.absoluteTime ? {} : { values: axisValues }, { size: 60 }],
        series: [
          { label: chart.absoluteTime ? 'time (UTC)' : 'time', value: function (plot, value) { return formatTime(value, 3); } },
          { label: series.key, stroke: PALETTE[at % PALETTE.length], width: 1.5, spanGaps: false },
        ],
        hooks: { draw: [drawMarkers(series)], setScale: [shareZoom] },
      };
      if (chart.absoluteTime) options.tzDate = function (seconds) { return uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'); };
      var plot = new uPlot(options, [chart.t, series.values], holder);
      plot.over.addEventListener('click', function () {
        if (plot.cursor.idx != null) select(chart.frames[plot.cursor.idx]);
      });
      report.charts.push({ key: series.key, plot: plot });
    });
    var pending = false;
    window.addEventListener('resize', function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        var size = Math.max(320, container.clientWidth);
        report.charts.forEach(function (entry) { entry.plot.setSize({ width: size, height: CHART_HEIGHT }); });
      });
    });
  }

  figures.forEach(function (figure) {
    figure.addEventListener('click', function () { select(Number(figure.dataset.index)); });
  });
  Array.prototype.forEach.call(document.querySelectorAll('table.frames tr[data-index]'), function (row) {
    row.addEventListener('click', function () {
      select(Number(row.dataset.index));
      detail.scrollIntoView({ block: 'nearest' });
    });
  });

  if (chart && chart.series.length > 0) drawCharts();
  else if (chart) document.getElementById('charts').appendChild(text('p', 'empty', 'No numeric output varies over the run: nothing to chart.'));
  report.ready = true;
  document.body.dataset.report = 'ready';
})();
