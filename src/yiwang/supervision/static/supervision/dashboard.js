/* The live dashboards: draws the 30-day trend with ECharts and keeps every figure current from
   the server-sent events of the page's stream (EventSource reconnects by itself). */
(function () {
  "use strict";
  var body = document.getElementById("dashboard");
  var initial = JSON.parse(document.getElementById("dashboard-data").textContent);
  var text = body.dataset;
  var rankBy = "on_time_rate";
  var current = initial;
  var chart = null;

  function shown(value, kind) {
    if (value === null || value === undefined) return "—";
    return kind === "percent" ? value + "%" : String(value);
  }

  function drawTrend(trend) {
    var el = document.getElementById("trend-chart");
    if (!window.echarts || !el) return;
    if (!chart) {
      chart = window.echarts.init(el, null, { renderer: "canvas" });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var axisColor = "#9db4d6";
    chart.setOption({
      animation: false,
      textStyle: { color: "#eaf2ff" },
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, textStyle: { color: "#eaf2ff" } },
      grid: { left: 40, right: 44, top: 32, bottom: 28 },
      xAxis: { type: "category", data: trend.days, axisLabel: { color: axisColor } },
      yAxis: [
        { type: "value", minInterval: 1, axisLabel: { color: axisColor }, splitLine: { lineStyle: { color: "#23497e" } } },
        { type: "value", min: 0, max: 100, axisLabel: { color: axisColor, formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: [
        { name: text.received, type: "bar", data: trend.received, itemStyle: { color: "#4fc3f7" } },
        { name: text.decided, type: "bar", data: trend.decided, itemStyle: { color: "#81c784" } },
        { name: text.onTime, type: "line", yAxisIndex: 1, data: trend.on_time_rate, connectNulls: true, itemStyle: { color: "#ffb74d" } }
      ]
    });
  }

  function drawKpis(today) {
    Object.keys(today).forEach(function (key) {
      var el = document.getElementById("kpi-" + key);
      if (!el) return;
      var value = shown(today[key], el.dataset.kind);
      if (el.textContent !== value) {
        el.textContent = value;
        el.classList.add("changed");
        setTimeout(function () { el.classList.remove("changed"); }, 1500);
      }
    });
  }

  function cell(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }

  function drawAreas(areas) {
    var list = document.getElementById("area-grid");
    var sorted = areas.slice().sort(function (a, b) {
      var x = a[rankBy], y = b[rankBy];
      if (x === null && y === null) return b.received - a.received;
      if (x === null) return 1;
      if (y === null) return -1;
      if (x !== y) return rankBy === "bad_rate" ? x - y : y - x;  // best first
      return b.received - a.received;
    });
    list.replaceChildren();
    if (!sorted.length) { list.appendChild(cell("li", text.none, "area empty")); return; }
    sorted.forEach(function (a, i) {
      var li = cell("li", "", "area");
      li.appendChild(cell("span", String(i + 1), "area-rank"));
      li.appendChild(cell("span", a.name, "area-name"));
      li.appendChild(cell("span", shown(a[rankBy], "percent"), "area-main"));
      li.appendChild(cell("span", text.received + " " + a.received + " · " + text.decided + " " + a.decided, "area-sub"));
      list.appendChild(li);
    });
  }

  function drawEvents(events) {
    var rows = document.getElementById("event-rows");
    rows.replaceChildren();
    if (!events.length) {
      var tr = document.createElement("tr");
      var td = cell("td", text.none);
      td.colSpan = 4;
      tr.appendChild(td);
      rows.appendChild(tr);
      return;
    }
    events.forEach(function (e) {
      var tr = document.createElement("tr");
      [e.at, e.item, e.region, e.state_label].forEach(function (v) { tr.appendChild(cell("td", v)); });
      rows.appendChild(tr);
    });
  }

  function draw(data) {
    current = data;
    document.getElementById("dash-day").textContent = data.day;
    document.getElementById("dash-updated").textContent = data.updated;
    drawKpis(data.today);
    drawTrend(data.trend);
    drawAreas(data.areas);
    drawEvents(data.events);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-rank]"), function (button) {
    button.addEventListener("click", function () {
      rankBy = button.dataset.rank;
      Array.prototype.forEach.call(document.querySelectorAll("[data-rank]"), function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      drawAreas(current.areas);
    });
  });

  drawTrend(initial.trend);
  var status = document.getElementById("dash-status");
  if (!window.EventSource) return;
  var source = new EventSource(body.dataset.stream);
  source.addEventListener("figures", function (event) {
    draw(JSON.parse(event.data));
  });
  source.addEventListener("open", function () {
    status.textContent = text.live;
    status.classList.add("live");
  });
  source.addEventListener("error", function () {
    // The stream ends on purpose (after some minutes, or after each event under WSGI) and
    // EventSource connects again after the server's retry; only a closed source stays down.
    if (source.readyState === EventSource.CLOSED) {
      status.textContent = text.reconnecting;
      status.classList.remove("live");
    }
  });
})();
