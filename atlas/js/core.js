/*
 * The atlas map's pure functions: no DOM, no Leaflet, so node's test runner checks them
 * (atlas/js/test/core.test.js). In the page they are `AtlasCore`; in node, module.exports.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.AtlasCore = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const LANGUAGES = ["en", "zh", "both"];
  const SEPARATOR = " \u00b7 ";

  /** A [en, zh] pair in the chosen language; the other one when it is missing. */
  function label(pair, lang) {
    if (!Array.isArray(pair)) return pair === null || pair === undefined ? "" : String(pair);
    const [en, zh] = pair;
    if (lang === "en") return en || zh || "";
    if (lang === "zh") return zh || en || "";
    return en && zh && en !== zh ? en + SEPARATOR + zh : en || zh || "";  // a text in one language said once
  }

  /** The parts that say something, joined: no "–" or empty placeholders. */
  function join(parts, separator) {
    return parts.filter(part => part !== null && part !== undefined && part !== "" && part !== "\u2013")
      .map(String).join(separator === undefined ? SEPARATOR : separator);
  }

  /** The empty filter: every designation matches. */
  function emptyFilter() {
    return {programme: "", batch: "", year: ""};
  }

  /** The key a batch select offers: batches are numbered per programme, so a batch is one of a programme. */
  function batchKey(programme, batch) {
    return programme + "|" + (batch === null || batch === undefined ? "unknown" : batch);
  }

  /**
   * Does designation `d` ({programme, batch, year}) pass `filter` ({programme, batch, year};
   * "" for any, "unknown" for a missing year, batch as `batchKey`)?
   */
  function matches(filter, d) {
    if (filter.programme && d.programme !== filter.programme) return false;
    if (filter.batch && batchKey(d.programme, d.batch) !== filter.batch) return false;
    if (filter.year) {
      const year = d.year === null || d.year === undefined ? "unknown" : String(d.year);
      if (year !== filter.year) return false;
    }
    return true;
  }

  function isEmpty(filter) {
    return !filter.programme && !filter.batch && !filter.year;
  }

  /**
   * Designations per district code and level that pass the filter: `designations` is a list
   * of {district, level, programme, batch, year}. Gives {code: {all, national, municipal, international}}.
   */
  function districtCounts(designations, filter) {
    const counts = {};
    for (const d of designations) {
      if (!matches(filter, d)) continue;
      const count = counts[d.district] || (counts[d.district] = {all: 0, national: 0, municipal: 0, international: 0});
      count.all += 1;
      if (d.level in count) count[d.level] += 1;
    }
    return counts;
  }

  /** The index of the class `value` falls into, for class lower bounds `bins` (ascending). */
  function binIndex(value, bins) {
    let found = 0;
    bins.forEach((lower, i) => { if (value >= lower) found = i; });
    return found;
  }

  /** `#place=<id>&lang=<en|zh|both>` read into {place, lang}; anything else is null. */
  function parseHash(hash) {
    const found = {place: null, lang: null};
    for (const part of String(hash || "").replace(/^#/, "").split("&")) {
      const at = part.indexOf("=");
      if (at < 0) continue;
      const key = part.slice(0, at);
      let value;
      try {
        value = decodeURIComponent(part.slice(at + 1));
      } catch {
        continue;  // a malformed escape names nothing
      }
      if (key === "place" && value) found.place = value;
      if (key === "lang" && LANGUAGES.includes(value)) found.lang = value;
    }
    return found;
  }

  /** The hash for a place and a language (the language only when it is not the default, both). */
  function formatHash(place, lang) {
    const parts = [];
    if (place) parts.push("place=" + encodeURIComponent(place));
    if (lang && lang !== "both") parts.push("lang=" + lang);
    return parts.length ? "#" + parts.join("&") : "";
  }

  /** A popup's largest size in a map of `width` x `height` px: inside it, with room for its tip and close button. */
  function popupLimits(width, height) {
    return {maxWidth: Math.max(160, Math.min(380, width - 90)),
      maxHeight: Math.max(120, Math.min(480, Math.round(height * 0.75) - 170))};
  }

  /** The key of a point in integer units (|lat| < 2^24), for places that share one: a number,
   * which a Map looks up faster than a string. */
  function pointKey(lon, lat) {
    return lon * 33554432 + lat;
  }

  /**
   * Features grouped by point, in first-seen order: [[key, [feature...]]...]. `features` are
   * {lon, lat, ...}; features at one point are drawn as one marker that lists them.
   */
  function groupByPoint(features) {
    const groups = new Map();
    for (const feature of features) {
      const key = pointKey(feature.lon, feature.lat);
      const group = groups.get(key);
      if (group) group.push(feature);
      else groups.set(key, [feature]);
    }
    return [...groups.entries()];
  }

  /** The legend items whose value is present: items are [label, colour, shape, value] (value null: always). */
  function presentItems(items, present) {
    return items.filter(item => item[3] === null || item[3] === undefined || present.has(item[3]));
  }

  /** How many of `total` match, in words of the language: "12 of 45". */
  function countText(shown, total, lang) {
    if (lang === "zh") return shown + " / " + total;
    return shown + " of " + total;
  }

  /** The `precision` code a feature carries: places located only to their district. */
  function approximate(precision) {
    return precision === "district";
  }

  /** Fraction of a `width` x `height` box covered by `rects` ({left, top, right, bottom}), overlaps counted once. */
  function coverage(rects, width, height) {
    const xs = new Set([0, width]);
    for (const r of rects) {
      xs.add(Math.max(0, Math.min(width, r.left)));
      xs.add(Math.max(0, Math.min(width, r.right)));
    }
    const sorted = [...xs].sort((a, b) => a - b);
    let area = 0;
    for (let i = 0; i + 1 < sorted.length; i++) {
      const x0 = sorted[i], x1 = sorted[i + 1];
      const spans = rects.filter(r => r.left <= x0 && r.right >= x1)
        .map(r => [Math.max(0, r.top), Math.min(height, r.bottom)]).filter(([a, b]) => b > a)
        .sort((a, b) => a[0] - b[0]);
      let covered = 0, end = -Infinity;
      for (const [a, b] of spans) {
        if (a > end) { covered += b - a; end = b; } else if (b > end) { covered += b - end; end = b; }
      }
      area += covered * (x1 - x0);
    }
    return area / (width * height);
  }

  return {LANGUAGES, label, join, emptyFilter, batchKey, matches, isEmpty, districtCounts, binIndex, parseHash,
    formatHash, popupLimits, pointKey, groupByPoint, presentItems, countText, approximate, coverage};
});
