// The map's pure functions, under node's own test runner: node --test atlas/js/test/
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const core = require("../core.js");

test("label picks a language and falls back to the other", () => {
  assert.equal(core.label(["Wulong", "武隆"], "en"), "Wulong");
  assert.equal(core.label(["Wulong", "武隆"], "zh"), "武隆");
  assert.equal(core.label(["Wulong", "武隆"], "both"), "Wulong \u00b7 武隆");
  assert.equal(core.label(["Wulong", null], "zh"), "Wulong");
  assert.equal(core.label([null, "武隆"], "both"), "武隆");
  assert.equal(core.label(["Beibei News: 我区", "Beibei News: 我区"], "both"), "Beibei News: 我区");
  assert.equal(core.label(null, "en"), "");
});

test("join leaves out empty parts and placeholders", () => {
  assert.equal(core.join(["Beibei District", "北碚区", "\u2013", "\u2013"]), "Beibei District \u00b7 北碚区");
  assert.equal(core.join(["a", null, undefined, "", 0]), "a \u00b7 0");
  assert.equal(core.join(["a", "b"], ", "), "a, b");
});

test("batches are a programme's: batch 3 of one is not batch 3 of another", () => {
  const filter = Object.assign(core.emptyFilter(), {batch: core.batchKey("2", 3)});
  assert.ok(core.matches(filter, {programme: "2", batch: 3, year: 2020}));
  assert.ok(!core.matches(filter, {programme: "1", batch: 3, year: 2020}));
  assert.ok(!core.matches(filter, {programme: "2", batch: null, year: 2020}));
  const unknown = Object.assign(core.emptyFilter(), {batch: core.batchKey("2", null)});
  assert.ok(core.matches(unknown, {programme: "2", batch: null, year: null}));
});

test("the year filter knows unknown years", () => {
  const filter = Object.assign(core.emptyFilter(), {year: "unknown"});
  assert.ok(core.matches(filter, {programme: "0", batch: 1, year: null}));
  assert.ok(!core.matches(filter, {programme: "0", batch: 1, year: 2019}));
  assert.ok(core.matches(Object.assign(core.emptyFilter(), {year: "2019"}), {programme: "0", batch: 1, year: 2019}));
  assert.ok(core.isEmpty(core.emptyFilter()) && !core.isEmpty(filter));
});

test("district counts follow the filter, by level", () => {
  const all = [
    {district: "500109", level: "national", programme: "0", batch: 1, year: 2017},
    {district: "500109", level: "municipal", programme: "1", batch: 3, year: 2019},
    {district: "500156", level: "national", programme: "0", batch: 2, year: 2018},
  ];
  assert.deepEqual(core.districtCounts(all, core.emptyFilter()), {
    500109: {all: 2, national: 1, municipal: 1, international: 0},
    500156: {all: 1, national: 1, municipal: 0, international: 0}});
  const national = Object.assign(core.emptyFilter(), {programme: "0"});
  assert.deepEqual(Object.keys(core.districtCounts(all, national)).sort(), ["500109", "500156"]);
  assert.equal(core.districtCounts(all, national)["500109"].all, 1);
  assert.deepEqual(core.districtCounts(all, Object.assign(core.emptyFilter(), {year: "2030"})), {});
});

test("bins: the class whose lower bound a value reaches", () => {
  const bins = [0, 1, 2, 4, 6];
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 60].map(v => core.binIndex(v, bins)), [0, 1, 2, 2, 3, 3, 4, 4]);
});

test("the address names a place and a language, and reads back", () => {
  assert.equal(core.formatHash("jinyun-mountain", "both"), "#place=jinyun-mountain");
  assert.equal(core.formatHash("a b", "zh"), "#place=a%20b&lang=zh");
  assert.equal(core.formatHash(null, "both"), "");
  assert.deepEqual(core.parseHash("#place=a%20b&lang=zh"), {place: "a b", lang: "zh"});
  assert.deepEqual(core.parseHash("#lang=fr&place="), {place: null, lang: null});
  assert.deepEqual(core.parseHash("#place=%E0%A4%A"), {place: null, lang: null});  // a broken escape
  assert.deepEqual(core.parseHash(""), {place: null, lang: null});
});

test("a popup fits a phone's screen beside the buttons", () => {
  const phone = core.popupLimits(390, 844);
  assert.ok(phone.maxWidth + 56 + 10 <= 390, JSON.stringify(phone));
  assert.ok(phone.maxHeight < 844 * 0.7);
  const desktop = core.popupLimits(1400, 900);
  assert.equal(desktop.maxWidth, 380);
  assert.ok(core.popupLimits(200, 200).maxWidth >= 160);
});

test("places at one point are one group, in first-seen order", () => {
  const groups = core.groupByPoint([{lon: 1, lat: 2, p: "a"}, {lon: 3, lat: 4, p: "b"}, {lon: 1, lat: 2, p: "c"}]);
  assert.deepEqual(groups.map(([key, features]) => [key, features.map(f => f.p)]),
    [[core.pointKey(1, 2), ["a", "c"]], [core.pointKey(3, 4), ["b"]]]);
  const keys = [[10636000, 2956000], [10636000, -2956000], [-10636000, 2956000], [10636001, 2956000]]
    .map(([lon, lat]) => core.pointKey(lon, lat));
  assert.equal(new Set(keys).size, keys.length);
});

test("legend items: only values present", () => {
  const items = [["3", "#a", "circle", "#a"], ["4", "#b", "circle", "#b"], ["all", "#c", "circle", null]];
  assert.deepEqual(core.presentItems(items, new Set(["#b"])).map(i => i[0]), ["4", "all"]);
});

test("count of matches in each language", () => {
  assert.equal(core.countText(3, 44, "en"), "3 of 44");
  assert.equal(core.countText(3, 44, "zh"), "3 / 44");
  assert.ok(core.approximate("district") && !core.approximate("site"));
});

test("coverage counts overlapping boxes once", () => {
  const box = (left, top, right, bottom) => ({left, top, right, bottom});
  assert.equal(core.coverage([box(0, 0, 50, 100)], 100, 100), 0.5);
  assert.equal(core.coverage([box(0, 0, 50, 100), box(25, 0, 75, 100)], 100, 100), 0.75);
  assert.equal(core.coverage([box(-10, -10, 10, 10)], 100, 100), 0.01);
  assert.equal(core.coverage([], 100, 100), 0);
});
