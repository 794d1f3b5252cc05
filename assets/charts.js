// Draws the dealer dashboard's charts from the JSON the page embeds (no inline scripts: the
// CSP forbids them). Each chart element names its series in data-chart; a chart without data
// says so instead of drawing an empty frame.
// Script errors are recorded where the browser test (tests/browser.rs) can read them.
window.__pageErrors = window.__pageErrors || [];
window.addEventListener("error", function (event) { window.__pageErrors.push(String(event.message)); });
(function () {
  function pct(v) { return v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 10; }
  function num(v) { return v === null || v === undefined ? null : Number(v); }
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "true");
  }
  // Expected against perceived per dimension (1–5): the gap between the bars is the dealer's satisfaction.
  function satisfaction(id, data) {
    if (!data || !data.dimensions || data.dimensions.length === 0) return;
    draw(id, {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 56, right: 24, top: 40, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: data.dimensions, axisLabel: { interval: 0, rotate: 20 } },
      yAxis: { type: "value", min: 0, max: 5 },
      series: [
        { name: data.labels.expected, type: "bar", data: data.expected },
        { name: data.labels.perceived, type: "bar", data: data.perceived }
      ]
    });
  }
  window.addEventListener("load", function () {
    var survey = document.getElementById("survey-data");
    if (survey && typeof echarts !== "undefined") satisfaction("chart-survey", JSON.parse(survey.textContent));
  });
  window.addEventListener("load", function () {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var labels = data.labels;
    var months = data.trend.map(function (f) { return f.period.from.slice(0, 7); });
    var grid = { left: 56, right: 24, top: 40, bottom: 32, containLabel: true };
    draw("chart-premium", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "¥" },
      series: [
        { name: labels.written, type: "bar", data: data.trend.map(function (f) { return num(f.written_premium); }) },
        { name: labels.earned, type: "bar", data: data.trend.map(function (f) { return num(f.earned_premium); }) }
      ]
    });
    draw("chart-ratios", {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "%" },
      series: [
        { name: labels.loss_ratio, type: "line", data: data.trend.map(function (f) { return pct(f.loss_ratio); }),
          markLine: { silent: true, symbol: "none", data: [{ yAxis: pct(data.target), name: labels.target }] } },
        { name: labels.commission_ratio, type: "line", data: data.trend.map(function (f) { return pct(f.commission_ratio); }) },
        { name: labels.variable_cost_ratio, type: "line", data: data.trend.map(function (f) { return pct(f.variable_cost_ratio); }) }
      ]
    });
    draw("chart-referrals", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "¥" },
      series: [
        { name: labels.referral_value, type: "bar", data: data.trend.map(function (f) { return num(f.referral_value); }) },
        { name: labels.incurred, type: "line", data: data.trend.map(function (f) { return num(f.incurred); }) },
        { name: labels.earned, type: "line", data: data.trend.map(function (f) { return num(f.earned_premium); }) }
      ]
    });
    var stages = Object.keys(data.claims_by_stage);
    draw("chart-claims", {
      tooltip: { trigger: "axis" }, grid: grid,
      xAxis: { type: "category", data: stages.map(function (s) { return data.stage_labels[s] || s; }) },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: stages.map(function (s) { return data.claims_by_stage[s]; }) }]
    });
    draw("chart-renewal", {
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } }, grid: grid,
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "%", max: 100 },
      series: [{ name: labels.renewal_rate, type: "line", data: data.trend.map(function (f) { return pct(f.renewal_rate); }) }]
    });
    satisfaction("chart-satisfaction", data.satisfaction);
  });
})();
// The analytics page: the dealer's percentile (turned so that 100 is best) per figure and peer group, and its
// incurred losses by accident quarter against their chain-ladder ultimate.
window.addEventListener("load", function () {
  var source = document.getElementById("analytics-data");
  if (!source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-drawn", "true");
  }
  var grid = { left: 8, right: 24, top: 40, bottom: 24, containLabel: true };
  draw("chart-position", {
    animation: false,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 }, grid: grid,
    xAxis: { type: "value", min: 0, max: 100, name: data.labels.goodness },
    yAxis: { type: "category", data: data.figures, inverse: true },
    // The worst in a group scores 0: a minimum bar keeps it visible instead of looking like no data.
    series: data.series.map(function (s) { return { name: s.name, type: "bar", barMinHeight: 3, data: s.data }; })
  });
  // Accident quarters before the dealer's first loss carry nothing to show.
  var first = data.latest.findIndex(function (v) { return v !== 0; });
  if (first > 0) {
    data.quarters = data.quarters.slice(first); data.latest = data.latest.slice(first); data.ultimate = data.ultimate.slice(first);
  }
  if (data.quarters.length > 0) {
    draw("chart-development", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: data.quarters, axisLabel: { rotate: 30 } }, yAxis: { type: "value", name: "¥" },
      series: [
        { name: data.labels.latest, type: "bar", data: data.latest },
        { name: data.labels.ultimate, type: "line", data: data.ultimate }
      ]
    });
  }
});
