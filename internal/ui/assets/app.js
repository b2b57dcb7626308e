// Throughline pages: draws the charts from the JSON the server embeds
// (#chart-data) with Observable Plot, and runs the SQL console. No data
// comes from anywhere but this server; every text is set as text.
"use strict";

(function () {
  const classes = { domain: ["project", "operational", "unclassified"], range: ["#2f6fce", "#e08a2c", "#9aa3ad"] };
  const stages = { domain: ["done", "started", "todo"], range: ["#7cbf94", "#2f6fce", "#c9d1db"] };
  const date = (s) => (s ? new Date(s + "T00:00:00Z") : null);
  const fmtDay = d3.utcFormat("%-d %b %Y");

  function width(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width || el.parentElement.clientWidth || 800));
  }

  // Percentile rules with labels at the right edge.
  function percentileRules(d, lastFacet) {
    const rows = [
      { p: "P50", v: d.p50 },
      { p: "P85", v: d.p85 },
      { p: "P95", v: d.p95 },
    ].filter((r) => r.v > 0);
    return [
      Plot.ruleY(rows, { y: "v", stroke: "#5d6b7a", strokeDasharray: "4,3", strokeOpacity: 0.8 }),
      Plot.text(rows, { y: "v", text: (r) => r.p + " " + r.v + " d", frameAnchor: "right", dx: 62, textAnchor: "end", dy: -6, fill: "#3d4a58", fontSize: 11,
        fx: lastFacet === undefined ? undefined : () => lastFacet }),
    ];
  }

  const charts = {
    // Portfolio: one sparkline per team with its least-squares trend.
    throughput(el, data) {
      if (el.dataset.index !== undefined) {
        const t = data[+el.dataset.index];
        const pts = t.points.map((p) => ({ week: date(p.week), items: p.items }));
        return Plot.plot({
          width: 140, height: 34, margin: 2, axis: null,
          x: { type: "utc" }, y: { domain: [0, d3.max(pts, (p) => p.items) || 1] },
          marks: [
            Plot.areaY(pts, { x: "week", y: "items", fill: "#2f6fce", fillOpacity: 0.12, curve: "monotone-x" }),
            Plot.lineY(pts, { x: "week", y: "items", stroke: "#2f6fce", strokeWidth: 1.5, curve: "monotone-x" }),
            Plot.linearRegressionY(pts, { x: "week", y: "items", stroke: "#c0392b", strokeWidth: 1, ci: 0 }),
          ],
        });
      }
      // Team page: stacked bars by work class.
      const rows = data.map((r) => ({ week: date(r.week), class: r.class, items: r.items }));
      return Plot.plot({
        width: width(el), height: 260, marginLeft: 44,
        x: { type: "band", tickFormat: d3.utcFormat("%-d %b"), label: "week starting", ticks: everyNth(rows.map((r) => r.week), 4) },
        y: { grid: true, label: "items finished" },
        color: Object.assign({ legend: true }, classes),
        marks: [
          Plot.barY(rows, { x: "week", y: "items", fill: "class", tip: { format: { x: fmtDay } } }),
          Plot.ruleY([0]),
        ],
      });
    },

    milestones(el, data) {
      const rows = data.rows.map((r) => ({ ...r, due: date(r.due), p50: date(r.p50), p85: date(r.p85), p95: date(r.p95) }));
      const color = { domain: ["overdue", "off_track", "at_risk", "on_track", "unknown", "no_due_date"], range: ["#c0392b", "#d35400", "#d4a017", "#1e8a4c", "#9aa3ad", "#9aa3ad"] };
      return Plot.plot({
        width: width(el), height: 40 + rows.length * 26, marginLeft: 220, marginRight: 20,
        x: { type: "utc", grid: true, label: null },
        y: { domain: rows.map((r) => r.label), label: null, tickFormat: (s) => (s.length > 34 ? s.slice(0, 33) + "…" : s) },
        color,
        marks: [
          Plot.ruleX([date(data.today)], { stroke: "#14233a", strokeOpacity: 0.5 }),
          Plot.text([date(data.today)], { x: (d) => d, frameAnchor: "top", dy: -2, text: () => "today", fontSize: 10, fill: "#5d6b7a" }),
          Plot.link(rows.filter((r) => r.p50 && r.p95), { x1: "p50", x2: "p95", y1: "label", y2: "label", stroke: "status", strokeWidth: 8, strokeOpacity: 0.35, href: "link" }),
          Plot.dot(rows.filter((r) => r.p85), { x: "p85", y: "label", fill: "status", r: 5, href: "link", title: (r) => r.label + "\nP85 " + fmtDay(r.p85) + (r.due ? "\ndue " + fmtDay(r.due) : "") }),
          Plot.tickX(rows.filter((r) => r.due), { x: "due", y: "label", stroke: "#14233a", strokeWidth: 2 }),
        ],
      });
    },

    cycle(el, data) {
      const pts = (data.points || []).map((p) => ({ ...p, d: date(p.d) }));
      if (!pts.length) return empty("No item with a cycle time finished in the window.");
      return Plot.plot({
        width: width(el), height: 380, marginLeft: 44, marginRight: 70,
        x: { type: "utc", label: "finished", grid: true },
        y: daysScale(pts.map((p) => p.days), "cycle time (days)"),
        color: classes,
        marks: [
          Plot.dot(pts, { x: "d", y: "days", fill: "class", fillOpacity: 0.75, r: 3, href: (p) => p.url || null, target: "_blank",
            channels: { key: "key", title: "title" }, tip: { format: { x: fmtDay, fill: false } } }),
          ...percentileRules(data),
        ],
      });
    },

    aging(el, data) {
      const pts = data.points || [];
      if (!pts.length) return empty("No open started item.");
      const cols = data.columns.length;
      return Plot.plot({
        width: width(el), height: 380, marginLeft: 44, marginRight: 70, marginBottom: 34,
        fx: { domain: data.columns, label: null, padding: 0.08 }, x: { axis: null },
        y: daysScale(pts.map((p) => p.age), "age (days)"),
        marks: [
          Plot.frame({ fill: "#f7f9fc", stroke: null }),
          Plot.dot(pts, Plot.dodgeX("middle", { fx: "status", y: "age", r: cols > 4 ? 2.5 : 3.5, padding: 0.5,
            fill: (p) => (p.over ? "#c0392b" : "#2f6fce"), fillOpacity: 0.75, href: (p) => p.url || null, target: "_blank",
            channels: { key: "key", title: "title", status: "status" }, tip: true })),
          ...percentileRules(data, data.columns[cols - 1]),
        ],
      });
    },

    wip(el, data) {
      const pts = (data.points || []).map((p) => ({ ...p, day: date(p.day) }));
      const marks = [
        Plot.areaY(pts, { x: "day", y: "items", fill: "class", curve: "step", tip: { format: { x: fmtDay } } }),
        Plot.ruleY([0]),
      ];
      if (data.limit > 0) {
        marks.push(Plot.ruleY([data.limit], { stroke: "#c0392b", strokeDasharray: "5,3" }));
        marks.push(Plot.text([data.limit], { y: (d) => d, text: (d) => "limit " + d, frameAnchor: "left", dy: -6, fill: "#c0392b", fontSize: 11 }));
      }
      return Plot.plot({ width: width(el), height: 260, marginLeft: 44, x: { type: "utc", label: null }, y: { grid: true, label: "items" },
        color: Object.assign({ legend: true }, classes), marks });
    },

    cfd(el, data) {
      const pts = data.map((p) => ({ ...p, day: date(p.day) }));
      return Plot.plot({
        width: width(el), height: 260, marginLeft: 54, x: { type: "utc", label: null }, y: { grid: true, label: "items" },
        color: Object.assign({ legend: true }, stages),
        marks: [Plot.areaY(pts, { x: "day", y: "items", fill: "stage", order: stages.domain, curve: "step", tip: { format: { x: fmtDay } } })],
      });
    },

    distribution(el, data) {
      const pts = (data.points || []).map((p) => ({ d: date(p.d), share: p.share }));
      const marks = [
        Plot.rectY(pts, { x1: "d", x2: (p) => d3.utcDay.offset(p.d, 1), y: "share", fill: "#2f6fce", fillOpacity: 0.75, insetLeft: 0.5, insetRight: 0.5,
          tip: { format: { x1: fmtDay, x2: false, y: (v) => Math.round(v * 100) + "%" } } }),
        Plot.ruleY([0]),
      ];
      const marker = (s, label, color, dy) => {
        if (!s) return;
        marks.push(Plot.ruleX([date(s)], { stroke: color, strokeWidth: 2, strokeDasharray: label === "due" ? null : "4,3" }));
        marks.push(Plot.text([date(s)], { x: (d) => d, text: () => label + " " + fmtDay(date(s)), frameAnchor: "top", dy: dy, dx: 4, textAnchor: "start", fill: color, fontSize: 11 }));
      };
      marker(data.due, "due", "#c0392b", 2);
      marker(data.p50, "P50", "#14233a", 16);
      marker(data.p85, "P85", "#14233a", 30);
      return Plot.plot({ width: width(el), height: 280, marginLeft: 44, x: { type: "utc", label: null }, y: { grid: true, label: "share of trials", tickFormat: "%" }, marks });
    },

    burnup(el, data) {
      const pts = (data.points || []).map((p) => ({ ...p, week: date(p.week) }));
      const marks = [
        Plot.lineY(pts, { x: "week", y: "items", stroke: "series", strokeWidth: 2, curve: "step-after", tip: { format: { x: fmtDay } } }),
        Plot.ruleY([0]),
      ];
      if (data.due) marks.push(Plot.ruleX([date(data.due)], { stroke: "#c0392b", strokeDasharray: "4,3" }));
      return Plot.plot({ width: width(el), height: 260, marginLeft: 44, x: { type: "utc", label: null }, y: { grid: true, label: "items" },
        color: { domain: ["scope", "completed"], range: ["#9aa3ad", "#1e8a4c"], legend: true }, marks });
    },

    due(el, data) {
      const pts = (data.points || []).map((p) => ({ at: date(p.at), due: date(p.due) }));
      if (!pts.length) return null;
      const marks = [
        Plot.line(pts, { x: "at", y: "due", stroke: "#2f6fce", strokeWidth: 2 }),
        Plot.dot(pts.filter((_, i) => i % 2 === 1 && i < pts.length - 1), { x: "at", y: "due", fill: "#2f6fce", tip: { format: { x: fmtDay, y: fmtDay } } }),
      ];
      if (data.baseline) marks.push(Plot.ruleY([date(data.baseline)], { stroke: "#5d6b7a", strokeDasharray: "4,3" }),
        Plot.text([date(data.baseline)], { y: (d) => d, text: () => "baseline", frameAnchor: "left", dy: -6, fill: "#5d6b7a", fontSize: 11 }));
      return Plot.plot({ width: width(el), height: 220, marginLeft: 80, x: { type: "utc", label: "changed", grid: true },
        y: { type: "utc", label: "due date", tickFormat: "%-d %b %Y" }, marks });
    },

    allocation(el, data) {
      const cells = data.cells.map((c) => ({ ...c, week: date(c.week) }));
      const teams = [...new Set(cells.map((c) => c.team))];
      const thisWeek = +date(data.thisWeek);
      const weekLabel = d3.utcFormat("%-d %b");
      return Plot.plot({
        width: width(el), height: 50 + teams.length * 34, marginLeft: 110, marginTop: 26,
        x: { type: "band", tickFormat: (d) => (+d === thisWeek ? "this week" : weekLabel(d)), label: null, axis: "top" },
        y: { domain: teams, label: null },
        color: { type: "threshold", domain: [0.6, 0.85, 1.0], range: ["#c6dbf5", "#9fd8b3", "#f6d37a", "#e8796a"], legend: true,
          tickFormat: (v) => Math.round(v * 100) + "%", label: "planned (from this week) or logged (past) ÷ capacity" },
        marks: [
          Plot.cell(cells, { x: "week", y: "team", fill: "ratio", inset: 1.5, fillOpacity: (c) => (c.kind === "logged" ? 0.55 : 1),
            tip: { format: { x: fmtDay, fill: (v) => Math.round(v * 100) + "%" } }, channels: { kind: "kind" } }),
          Plot.text(cells, { x: "week", y: "team", text: (c) => Math.round(c.ratio * 100) + "%", fill: "#1b2430", fontSize: 10.5 }),
        ],
      });
    },

    hours(el, data) {
      const pts = data.map((p) => ({ ...p, week: date(p.week) }));
      const teams = [...new Set(pts.map((p) => p.team))];
      return Plot.plot({
        width: width(el), height: 70 + teams.length * 120, marginLeft: 54, marginRight: 90,
        x: { type: "utc", label: null }, y: { grid: true, label: "hours" }, fy: { domain: teams, label: null },
        color: { domain: ["capacity", "planned", "logged"], range: ["#14233a", "#e08a2c", "#2f6fce"], legend: true },
        marks: [
          Plot.lineY(pts, { x: "week", y: "hours", fy: "team", stroke: "series", strokeWidth: 2, marker: "circle-stroke", tip: { format: { x: fmtDay } } }),
          Plot.frame({ strokeOpacity: 0.15 }),
        ],
      });
    },

    mix(el, data) {
      const bars = data.bars.map((b) => ({ ...b, week: date(b.week) }));
      const teams = [...new Set(bars.map((b) => b.team))];
      return Plot.plot({
        width: width(el), height: 70 + teams.length * 120, marginLeft: 54, marginRight: 90,
        x: { type: "band", tickFormat: d3.utcFormat("%-d %b"), label: null }, y: { grid: true, label: "hours" }, fy: { domain: teams, label: null },
        color: Object.assign({ legend: true }, classes),
        marks: [
          Plot.barY(bars, { x: "week", y: "hours", fy: "team", fill: "class", fillOpacity: (b) => (b.kind === "logged" ? 0.6 : 1),
            tip: { format: { x: fmtDay } }, channels: { kind: "kind" } }),
          Plot.frame({ strokeOpacity: 0.15 }),
        ],
      });
    },
  };

  // A y scale of days: linear, or logarithmic when a long tail would squash
  // the rest (the ActionableAgile charts do the same).
  function daysScale(values, label) {
    const max = d3.max(values) || 1;
    const p90 = d3.quantile(values, 0.9) || 1;
    if (max > 4 * p90 && max > 40) return { type: "log", domain: [1, max * 1.15], label, grid: true };
    return { domain: [0, max * 1.08], label, grid: true };
  }

  function everyNth(values, n) {
    const uniq = [...new Set(values.map((v) => +v))].sort((a, b) => a - b);
    return uniq.filter((_, i) => i % n === 0).map((v) => new Date(v));
  }

  function empty(text) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    return p;
  }

  function drawCharts() {
    const script = document.getElementById("chart-data");
    if (!script) return;
    const all = JSON.parse(script.textContent);
    for (const el of document.querySelectorAll("[data-chart]")) {
      const name = el.dataset.chart;
      const draw = charts[name];
      if (!draw || all[name] === undefined || all[name] === null) continue;
      try {
        const node = draw(el, all[name]);
        if (node) {
          if (el.getAttribute("aria-label") && node.setAttribute && node.tagName.toLowerCase() === "svg") {
            node.setAttribute("role", "img");
            node.setAttribute("aria-label", el.getAttribute("aria-label"));
          }
          el.replaceChildren(node);
        }
      } catch (err) {
        el.replaceChildren(empty("This chart could not be drawn: " + err.message + ". Its numbers are in the table and CSV."));
        throw err;
      }
    }
  }

  // "3 min ago" from <time data-ago datetime=…>, kept current while the
  // page is open (the server sends the absolute time).
  function ages() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time[data-ago]")) {
      const t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) continue;
      if (!el.title) el.title = el.textContent;
      const s = Math.max(0, (now - t) / 1000);
      el.textContent = s < 60 ? "just now" : s < 3600 ? Math.floor(s / 60) + " min ago" : s < 172800 ? Math.floor(s / 3600) + " h ago" : Math.floor(s / 86400) + " days ago";
    }
  }

  function autosubmit() {
    for (const s of document.querySelectorAll("select[data-autosubmit]")) {
      s.addEventListener("change", () => s.form.submit());
    }
  }

  // SQL console.
  function consolePage() {
    const form = document.getElementById("sql-form");
    if (!form) return;
    const sql = document.getElementById("sql");
    const status = document.getElementById("status");
    const errorBox = document.getElementById("error");
    const result = document.getElementById("result");
    const maxRows = document.getElementById("max-rows");

    function showError(msg) {
      errorBox.textContent = msg;
      errorBox.hidden = false;
    }

    async function post(accept) {
      const body = JSON.stringify({ sql: sql.value, max_rows: Math.max(1, Math.min(100000, +maxRows.value || 1000)) });
      return fetch("/api/v1/sql", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: accept },
        body,
      });
    }

    async function errorOf(resp) {
      try {
        const j = await resp.json();
        return j.error + (j.code ? " (" + j.code + ")" : "");
      } catch (e) {
        return resp.status + " " + resp.statusText;
      }
    }

    async function run() {
      errorBox.hidden = true;
      status.textContent = "Running…";
      const t0 = performance.now();
      let resp;
      try {
        resp = await post("application/json");
      } catch (e) {
        status.textContent = "";
        showError("The server did not answer: " + e.message);
        return;
      }
      if (!resp.ok) {
        status.textContent = "";
        result.replaceChildren();
        showError(await errorOf(resp));
        return;
      }
      const res = await resp.json();
      const ms = Math.round(performance.now() - t0);
      status.textContent = res.row_count + " row" + (res.row_count === 1 ? "" : "s") + (res.truncated ? " (truncated at the row limit)" : "") + " in " + ms + " ms";
      result.replaceChildren(renderTable(res));
    }

    function renderTable(res) {
      const table = document.createElement("table");
      const thead = table.createTHead().insertRow();
      for (const c of res.columns) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = c.name;
        th.title = c.type;
        thead.appendChild(th);
      }
      const tbody = table.createTBody();
      for (const row of res.rows) {
        const tr = tbody.insertRow();
        for (const v of row) {
          const td = tr.insertCell();
          if (v === null) {
            td.textContent = "NULL";
            td.className = "null";
          } else {
            td.textContent = typeof v === "object" ? JSON.stringify(v) : String(v);
            if (typeof v === "number") td.className = "num";
          }
        }
      }
      return table;
    }

    async function download(accept, ext) {
      errorBox.hidden = true;
      status.textContent = "Preparing " + ext.toUpperCase() + "…";
      const resp = await post(accept);
      if (!resp.ok) {
        status.textContent = "";
        showError(await errorOf(resp));
        return;
      }
      const blob = await resp.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "throughline-query." + ext;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      status.textContent = "Downloaded " + resp.headers.get("X-Throughline-Row-Count") + " rows as " + ext.toUpperCase();
    }

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      run();
    });
    sql.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        run();
      }
    });
    document.getElementById("download-csv").addEventListener("click", () => download("text/csv", "csv"));
    document.getElementById("download-parquet").addEventListener("click", () => download("application/vnd.apache.parquet", "parquet"));
    for (const b of document.querySelectorAll("button.example")) {
      b.addEventListener("click", () => {
        const t = document.getElementById("example-" + b.dataset.example);
        sql.value = t.content.textContent.trim();
        sql.focus();
        run();
      });
    }
    for (const b of document.querySelectorAll("button.insert")) {
      b.addEventListener("click", (e) => {
        e.preventDefault();
        const s = sql.selectionStart, t = b.dataset.insert;
        sql.setRangeText(t, s, sql.selectionEnd, "end");
        sql.focus();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    autosubmit();
    ages();
    setInterval(ages, 30000);
    consolePage();
    try {
      drawCharts();
    } finally {
      document.body.dataset.ready = "1"; // for tests and screenshots: charts drawn
    }
  });
})();
