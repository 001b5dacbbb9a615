/* Draws the dashboard's charts from the same tables the page prints (served locally, no CDN). */
(function () {
  "use strict";
  var source = document.getElementById("rp-charts");
  if (!source || !window.echarts) { return; }
  var tables = JSON.parse(source.textContent);
  var palette = ["#9b1c1c", "#2f6fb0", "#3a9d5d", "#d08a1c", "#7a4fb0", "#1c8f9b", "#b04f7a", "#6b6b6b"];

  function option(t) {
    var names = t.rows.map(function (r) { return String(r[0]); });
    var values = t.rows.map(function (r) { return r[1]; });
    if (t.kind === "pie") {
      return {
        color: palette, tooltip: {trigger: "item", formatter: "{b}：{c}（{d}%）"},
        legend: {bottom: 0, type: "scroll"},
        series: [{type: "pie", radius: ["35%", "62%"], center: ["50%", "45%"],
                  label: {show: t.rows.length <= 6, formatter: "{c}"},
                  data: t.rows.filter(function (r) { return r[1]; }).map(function (r) { return {name: String(r[0]), value: r[1]}; })}]
      };
    }
    if (t.kind === "rank") {
      var ranked = t.rows.filter(function (r) { return r[0] !== "不排名"; }).slice(0, 20).reverse();
      var empty = ranked.length ? undefined : {text: "样本数不足，暂不排名（见数据表）", left: "center", top: "middle",
                                               textStyle: {fontSize: 13, color: "#777", fontWeight: "normal"}};
      return {
        title: empty, color: palette, tooltip: {trigger: "axis"}, grid: {left: 130, right: 95, top: 10, bottom: 30},
        xAxis: {type: "value", max: 100}, yAxis: {type: "category", data: ranked.map(function (r) { return r[1]; })},
        series: [{type: "bar", data: ranked.map(function (r) { return r[2]; }),
                  label: {show: true, position: "right", formatter: function (p) { return p.value + "%（n=" + ranked[p.dataIndex][3] + "）"; }}}]
      };
    }
    return {
      color: palette, tooltip: {trigger: "axis"}, grid: {left: 50, right: 20, top: 20, bottom: 60},
      xAxis: {type: "category", data: names, axisLabel: {rotate: 30, interval: t.kind === "line" ? "auto" : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: t.kind === "line" ? "line" : "bar", data: values, label: {show: t.kind !== "line", position: "top"}}]
    };
  }

  var charts = [];
  tables.forEach(function (t) {
    var el = document.getElementById("chart-" + t.key);
    if (!el) { return; }
    var chart = window.echarts.init(el);
    chart.setOption(option(t));
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
