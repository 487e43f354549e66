/*
 * The dashboard page: polls /api/status and renders it. Plain browser JavaScript, no build step.
 *
 * Every value from the JSON reaches the DOM through textContent or a DOM property, never innerHTML:
 * error texts come from remote APIs and wallet values from user-supplied lists, so any of them may
 * be hostile. Control and bidi characters are shown as \uXXXX escapes so they are visible, not
 * interpreted.
 *
 * Tests read window.__dashboard = { renders, errors, lastStatus, chartPoints, chart, error }.
 */
/* global window, document, fetch, setTimeout, clearTimeout, AbortController, URLSearchParams, uPlot */
(function () {
  'use strict';

  const params = new URLSearchParams(window.location.search);
  // ?interval=200 lets tests poll faster; the floor keeps a typo from hammering the server.
  const INTERVAL_MS = Math.max(100, Number(params.get('interval')) || 2000);
  const REQUEST_TIMEOUT_MS = Math.max(10000, INTERVAL_MS * 5);
  const MAX_TEXT = 500;

  const state = { renders: 0, errors: 0, lastStatus: null, chartPoints: 0, chart: null, error: null };
  window.__dashboard = state;

  const $ = (id) => document.getElementById(id);

  // --- formatting -----------------------------------------------------------------------------

  const intFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const percentFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
  const DASH = '—';

  // eslint-disable-next-line no-control-regex
  const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

  /** Any value as visible plain text: control and bidi characters escaped, length capped. */
  function printable(value) {
    if (value === null || value === undefined) return DASH;
    const text = String(value).replace(UNPRINTABLE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) + '…' : text;
  }

  function formatTime(iso) {
    if (typeof iso !== 'string') return DASH;
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return printable(iso);
    return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  }

  function formatDuration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (h > 0) return h + ' h ' + String(m).padStart(2, '0') + ' min';
    if (m > 0) return m + ' min ' + String(s % 60).padStart(2, '0') + ' s';
    return s + ' s';
  }

  function formatBytes(bytes) {
    if (!isNumber(bytes)) return DASH;
    const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return unit === 0 ? intFormat.format(value) + ' bytes' : value.toFixed(2) + ' ' + units[unit];
  }

  function formatUsd(usd) {
    if (!isNumber(usd)) return DASH;
    const digits = usd !== 0 && Math.abs(usd) < 1 ? 4 : 2;
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: digits }).format(usd);
  }

  function formatEta(seconds, status) {
    if (!status.run) return DASH + ' (no run in progress)';
    if (status.stale) return DASH + ' (run ended unexpectedly)';
    if (status.run.state !== 'running' || !status.live) return DASH + ' (run ' + (status.run.state === 'stopped' ? 'stopped' : 'finished') + ')';
    if (!isNumber(seconds)) return 'not known yet';
    const done = new Date(Date.parse(status.as_of) + seconds * 1000);
    const at = Number.isNaN(done.getTime()) ? '' : ' (around ' + done.toLocaleTimeString(undefined, { timeStyle: 'short' }) + ')';
    return formatDuration(seconds) + at;
  }

  const FORMATS = {
    int: (v) => (isNumber(v) ? intFormat.format(v) : DASH),
    rate: (v) => (isNumber(v) ? rateFormat.format(v) : DASH),
    text: (v) => printable(v),
    time: (v) => formatTime(v),
    bytes: (v) => formatBytes(v),
    usd: (v) => formatUsd(v),
    eta: (v, status) => formatEta(v, status),
    batch: (v) => (v && isNumber(v.wallets) ? intFormat.format(v.wallets) + ' wallets, since ' + formatTime(v.started_at) : 'none'),
  };

  function lookup(object, path) {
    return path.split('.').reduce((value, key) => (value !== null && typeof value === 'object' ? value[key] : undefined), object);
  }

  // --- rendering -------------------------------------------------------------------------------

  function stateLabel(status) {
    if (status.stale) return { key: 'stale', text: 'stale (run ended unexpectedly)' };
    if (status.live) return { key: 'live', text: 'live' };
    if (status.source === 'warehouse') return { key: 'warehouse', text: 'from the warehouse' };
    if (status.run && status.run.state === 'stopped') return { key: 'stopped', text: 'stopped (the next run resumes it)' };
    return { key: 'finished', text: 'finished' };
  }

  /** Every [data-field] element: its text formatted, its raw value in data-value (read by tests). */
  function renderFields(status) {
    for (const el of document.querySelectorAll('[data-field]')) {
      const value = lookup(status, el.dataset.field);
      const format = FORMATS[el.dataset.format] || FORMATS.text;
      el.textContent = format(value, status);
      el.dataset.value = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
  }

  function renderProgress(status) {
    const percent = isNumber(status.percent_complete) ? status.percent_complete : null;
    const bar = $('progress-bar');
    const width = percent === null ? 0 : Math.min(100, Math.max(0, percent));
    $('progress-fill').style.width = width + '%';
    if (percent === null) {
      bar.removeAttribute('aria-valuenow');
      bar.setAttribute('aria-valuetext', 'no wallets yet');
      $('progress-text').textContent = 'No wallets to backfill yet.';
    } else {
      const text = percentFormat.format(percent) + ' % complete';
      bar.setAttribute('aria-valuenow', String(width));
      bar.setAttribute('aria-valuetext', text);
      $('progress-text').textContent = text + ' ' + DASH + ' ' + FORMATS.int(status.completed) + ' of ' + FORMATS.int(status.total) + ' wallets';
    }
    document.title = (percent === null ? '' : percentFormat.format(percent) + ' % · ') + 'Backfill dashboard';
  }

  function cell(tag, text, className) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function renderFailures(status) {
    const byClass = (status.failures && status.failures.by_class) || {};
    const classes = Object.keys(byClass).sort((a, b) => (byClass[b].count || 0) - (byClass[a].count || 0) || a.localeCompare(b));
    const container = $('failures');
    const blocks = classes.map((name) => {
      const entry = byClass[name];
      const block = document.createElement('section');
      block.className = 'failure-class';
      block.dataset.errorClass = name;
      const heading = document.createElement('h3');
      heading.append(cell('span', printable(name), 'mono'), ' ', cell('span', FORMATS.int(entry.count) + (entry.count === 1 ? ' wallet' : ' wallets'), 'count'));
      const table = document.createElement('table');
      table.className = 'data';
      const head = table.createTHead().insertRow();
      for (const title of ['Wallet', 'Error', 'When']) {
        const th = cell('th', title);
        th.scope = 'col';
        head.append(th);
      }
      const body = table.createTBody();
      for (const example of entry.latest || []) {
        const row = body.insertRow();
        row.append(cell('td', printable(example.wallet), 'mono wallet'), cell('td', printable(example.error), 'error-text'), cell('td', formatTime(example.at), 'when'));
      }
      block.append(heading, table);
      return block;
    });
    container.replaceChildren(...blocks);
    $('no-failures').hidden = classes.length > 0;
  }

  const signedUsd = (v) => (isNumber(v) ? formatUsd(v) : DASH);

  /** An after-fees cell: "—" with a reason when the fee of a fill is unknown (null), never $0.00 or NaN. */
  function afterFeesCell(value, className) {
    const td = cell('td', signedUsd(value), className);
    if (!isNumber(value)) td.title = 'fees unknown: no TRADE activity held for some fill';
    return td;
  }

  /** The top traders of wallet_stats; a status from before the panel existed has none. */
  function renderTraders(status) {
    const traders = status.traders && Array.isArray(status.traders.top) ? status.traders.top : [];
    $('no-traders').hidden = traders.length > 0;
    $('traders-table').hidden = traders.length === 0;
    $('traders-fees-unknown').hidden = !traders.some((t) => !isNumber(t.realized_pnl_after_fees));
    const rows = traders.map((t, i) => {
      const row = document.createElement('tr');
      row.dataset.wallet = printable(t.wallet);
      if (t.stale) row.dataset.stale = 'true';
      const wallet = cell('th', printable(t.wallet), 'mono wallet');
      wallet.scope = 'row';
      if (t.stale) wallet.append(' ', cell('span', 'stale', 'badge-inline'));
      const winRate = isNumber(t.win_rate)
        ? percentFormat.format(t.win_rate * 100) + ' % (' + FORMATS.int(t.wins) + '/' + FORMATS.int(t.win_rate_sample) + ')'
        : DASH;
      row.append(
        cell('td', String(i + 1), 'num rank'),
        wallet,
        cell('td', signedUsd(t.realized_pnl), 'num realized'),
        afterFeesCell(t.realized_pnl_after_fees, 'num after-fees'),
        cell('td', signedUsd(t.volume_usdc), 'num volume'),
        // Return on cost is after fees: unknown with them (else no return is nothing bought).
        isNumber(t.return_on_cost)
          ? cell('td', percentFormat.format(t.return_on_cost * 100) + ' %', 'num return')
          : isNumber(t.realized_pnl_after_fees) ? cell('td', DASH, 'num return') : afterFeesCell(null, 'num return'),
        cell('td', winRate, 'num win-rate'),
        cell('td', FORMATS.int(t.markets_traded), 'num markets'),
        cell('td', printable(t.top_category), 'category'),
      );
      return row;
    });
    $('traders-rows').replaceChildren(...rows);
  }

  function renderApi(status) {
    const api = status.run && status.run.api;
    $('no-api').hidden = Boolean(api);
    $('api-table').hidden = !api;
    $('throttled').hidden = !api;
    if (!api) {
      $('api-rows').replaceChildren();
      return;
    }
    const requests = api.requests || {};
    const retries = api.retries || {};
    const use = api.rate_limit_utilisation || {};
    const endpoints = [...new Set([...Object.keys(requests), ...Object.keys(retries), ...Object.keys(use)])].sort();
    const rows = endpoints.map((endpoint) => {
      const row = document.createElement('tr');
      row.dataset.endpoint = endpoint;
      const name = cell('th', printable(endpoint), 'mono');
      name.scope = 'row';
      const share = isNumber(use[endpoint]) ? use[endpoint] : null;
      const useCell = document.createElement('td');
      useCell.className = 'use';
      if (share !== null) {
        const meter = document.createElement('meter');
        meter.min = 0;
        meter.max = 1;
        meter.low = 0.7;
        meter.high = 0.9;
        meter.optimum = 0;
        meter.value = share;
        meter.setAttribute('aria-label', 'rate-limit use of ' + printable(endpoint));
        useCell.append(meter, ' ', cell('span', percentFormat.format(share * 100) + ' %', 'use-text'));
      } else {
        useCell.textContent = DASH;
      }
      row.append(name, cell('td', FORMATS.int(requests[endpoint] || 0), 'num requests'), cell('td', FORMATS.int(retries[endpoint] || 0), 'num retries'), useCell);
      return row;
    });
    $('api-rows').replaceChildren(...rows);
  }

  // --- chart -----------------------------------------------------------------------------------

  /**
   * Points are counts per bucket; the chart shows rates, so each count is divided by the bucket's
   * width (the median gap between points: a missing empty bucket must not halve a rate), or by the
   * part of it the run covered.
   */
  function throughputSeries(points) {
    const xs = points.map((p) => Date.parse(p.t) / 1000);
    const gaps = xs.slice(1).map((x, i) => x - xs[i]).filter((g) => g > 0).sort((a, b) => a - b);
    const width = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : 10;
    // A partial bucket (the first, the one in progress) is divided by the seconds it covered.
    const span = (p) => (typeof p.seconds === 'number' && p.seconds > 0 ? Math.min(p.seconds, width) : width);
    return [xs, points.map((p) => (p.wallets * 60) / span(p)), points.map((p) => p.trades / span(p))];
  }

  function chartWidth() {
    return Math.max(320, $('chart').clientWidth || 0);
  }

  function renderChart(status) {
    const points = (status.run && Array.isArray(status.run.throughput) ? status.run.throughput : []).filter((p) => !Number.isNaN(Date.parse(p.t)));
    state.chartPoints = points.length;
    $('chart-empty').hidden = points.length > 0;
    $('chart').hidden = points.length === 0;
    if (points.length === 0 || typeof uPlot !== 'function') return;
    const data = throughputSeries(points);
    if (state.chart) {
      state.chart.setData(data);
      return;
    }
    state.chart = new uPlot(
      {
        width: chartWidth(),
        height: 260,
        scales: { x: { time: true }, wallets: { auto: true }, trades: { auto: true } },
        series: [
          { label: 'Time' },
          { label: 'Wallets/min', scale: 'wallets', stroke: '#1f5fa8', width: 2, value: (u, v) => (v === null ? DASH : rateFormat.format(v)) },
          { label: 'Trades/s', scale: 'trades', stroke: '#c2410c', width: 2, dash: [8, 5], value: (u, v) => (v === null ? DASH : rateFormat.format(v)) },
        ],
        axes: [{}, { scale: 'wallets', label: 'wallets / min' }, { scale: 'trades', side: 1, label: 'trades / s', grid: { show: false } }],
      },
      data,
      $('chart'),
    );
  }

  window.addEventListener('resize', () => {
    if (state.chart) state.chart.setSize({ width: chartWidth(), height: 260 });
  });

  // --- status and errors -----------------------------------------------------------------------

  function render(status) {
    if (!status || typeof status !== 'object' || typeof status.as_of !== 'string') throw new Error('the status JSON is not understood');
    $('error').hidden = true;
    $('figures').hidden = false;
    const label = stateLabel(status);
    const badge = $('state');
    badge.textContent = label.text;
    badge.dataset.state = label.key;
    $('warehouse').textContent = printable(status.warehouse);
    const asOf = $('as-of');
    asOf.textContent = formatTime(status.as_of);
    asOf.dateTime = status.as_of;
    renderProgress(status);
    renderFields(status);
    $('run').hidden = !status.run;
    $('no-run').hidden = Boolean(status.run);
    renderTraders(status);
    renderFailures(status);
    renderApi(status);
    $('bigquery').hidden = !status.bigquery;
    renderChart(status);
    state.error = null;
    state.lastStatus = status;
    state.renders += 1;
  }

  /** The error replaces the figures: numbers that can no longer be refreshed must not look current. */
  function showError(message) {
    $('figures').hidden = true;
    $('error').hidden = false;
    $('error-text').textContent = printable(message);
    const badge = $('state');
    badge.textContent = 'status unavailable';
    badge.dataset.state = 'error';
    document.title = 'Status unavailable · Backfill dashboard';
    state.error = message;
    state.errors += 1;
  }

  async function poll() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch('/api/status', { cache: 'no-store', signal: controller.signal });
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (!response.ok) {
        showError(body && typeof body.error === 'string' ? body.error : 'HTTP ' + response.status);
      } else {
        render(body);
      }
    } catch (error) {
      const reason = error && error.name === 'AbortError' ? 'no answer within ' + REQUEST_TIMEOUT_MS / 1000 + ' s' : String((error && error.message) || error);
      showError('cannot read /api/status: ' + reason);
    } finally {
      clearTimeout(timer);
      setTimeout(poll, INTERVAL_MS);
    }
  }

  poll();
})();
