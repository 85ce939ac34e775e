/*
 * The atlas map's page code: district shapes, popups and tooltips, and the controls (layers,
 * legend, filter, search, language, links), all following one state: the language and the
 * designation filter. Every text from the data enters the DOM through `textContent`.
 * Python (atlas/plugins.py) only hands each function its JSON.
 */
var AtlasMap = (function () {  // eslint-disable-line no-unused-vars
  "use strict";

  const core = AtlasCore;
  const NARROW = "(max-width: 640px)";

  function add(parent, tag, text, className) {
    const element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = text;
    if (className) element.className = className;
    if (parent) parent.appendChild(element);
    return element;
  }

  /** The data in the page's JSON script element of that id: parsed as JSON, which is several
   * times quicker than the same object written as code, and never run. */
  function json(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  /** District polygons, once per page: code -> rings of integer deltas (see plugins.DistrictShapes). */
  function districtShapes(shapes, scale, labels) {
    const decoded = {};
    function ring(deltas) {
      const out = [];
      let x = 0, y = 0;
      for (let i = 0; i < deltas.length; i += 2) {
        x += deltas[i];
        y += deltas[i + 1];
        out.push([x / scale, y / scale]);
      }
      return out;
    }
    function geometry(code) {
      if (!shapes[code]) return null;
      if (!decoded[code]) decoded[code] = {type: "MultiPolygon", coordinates: shapes[code].map(p => p.map(ring))};
      return decoded[code];
    }
    return {geometry, labels};
  }

  /** A layer of district polygons: `features` name their district in `properties.d`. */
  function districtLayer(features, shapes, style) {
    const layer = L.geoJson(null, {style: feature => Object.assign({}, style, {fillColor: feature.properties.c})});
    layer.addData(features.map(f => Object.assign(f, {geometry: shapes.geometry(f.properties.d)})));
    layer.baseStyle = style;
    return layer;
  }

  /**
   * The page's state and controls. `config`: see plugins.AtlasUI. `layers`: JS layer objects by
   * the names `config` uses; `popups`: the texts (render.popup_table).
   */
  function setup(map, config, layers, data) {
    const state = {lang: "both", filter: core.emptyFilter(), place: null};
    const listeners = [];
    const shapes = layers[config.shapes] || {geometry: () => null, labels: {}};
    const T = config.texts;  // [en, zh] pairs of the page's own words
    const t = key => core.label(T[key], state.lang);
    const tn = (key, n) => core.label(T[key].map(text => text.replace("{n}", n)), state.lang);
    const narrow = window.matchMedia ? window.matchMedia(NARROW).matches : false;
    const programmes = data.programmes;
    const byName = name => layers[name];
    const entries = config.layers.map(entry => Object.assign({}, entry, {layer: byName(entry.layer),
      group: byName(entry.group)}));

    if (!map.getPane("atlasLabels")) map.createPane("atlasLabels").style.zIndex = 450;  // takes no clicks
    map.attributionControl.setPrefix(false);

    // --- every designation, for the district counts and the filter: made when first filtered ---
    let everyDesignation = null;
    function designationList() {
      if (!everyDesignation) {
        everyDesignation = [];
        for (const [id, place] of Object.entries(data.places)) {
          for (const [programme, level, batch, year] of place[3]) {
            everyDesignation.push({place: id, district: place[2], level, programme: String(programme), batch, year});
          }
        }
      }
      return everyDesignation;
    }
    const hasDesignations = Object.values(data.places).some(place => place[3].length);
    function keep(d) { return core.matches(state.filter, d); }
    let counts = {};  // unfiltered, as the page was written
    for (const [code, district] of Object.entries(data.districts)) {
      const [all, national, municipal, international] = district[1];
      counts[code] = {all, national, municipal, international};
    }
    let matchingPlaces = null;  // place id -> has a matching designation, null without a filter

    // --- popups and tooltips ---
    const cite = (parent, ids, order) => {
      if (!ids.length) return;
      add(parent, "sup", ids.map(i => {
        if (!order.includes(i)) order.push(i);
        return "[" + (order.indexOf(i) + 1) + "]";
      }).join(""));
    };
    function facts(level, batch, year) {
      const words = {national: T.national, municipal: T.municipal, international: T.international};
      return core.join([words[level] ? core.label(words[level], state.lang) : level,
        batch !== null && batch !== undefined ? (state.lang === "zh" ? "第" + batch + "批" : "batch " + batch) : null,
        year !== null && year !== undefined ? String(year) : null], ", ");
    }
    function folded(parent, title, build) {
      const details = add(parent, "details");
      add(details, "summary", title);
      build(details);
      return details;
    }
    function placePopup(id) {
      const [names, kind, code, held, figures, approximate, role] = data.places[id];
      const box = add(null, "div", null, "atlas-popup");
      add(box, "h4", core.label(names, state.lang));
      add(box, "p", core.join([core.label(config.kinds[kind] || kind, state.lang),
        core.label(data.districts[code][0], state.lang)]), "atlas-meta");
      if (approximate) add(box, "p", t("approximate"), "atlas-approximate");
      const order = [];
      if (role) cite(add(box, "p", role[0], "atlas-role"), role[1], order);
      if (held.length) {
        const list = add(box, "ul", null, "atlas-designations");
        for (const [programme, level, batch, year, sources] of held) {
          const item = add(list, "li", core.label(programmes[programme], state.lang));
          const detail = facts(level, batch, year);
          if (detail) add(item, "span", " (" + detail + ")");
          cite(item, sources, order);
          if (!core.isEmpty(state.filter) && !keep({programme: String(programme), batch, year})) {
            item.className = "atlas-unmatched";
          }
        }
      }
      if (figures.length) {
        folded(box, t("figures") + " (" + figures.length + ")", details => {
          const table = add(details, "table");
          for (const [label, text, sources, status] of figures) {
            const row = add(table, "tr");
            add(row, "td", data.labels[label]);
            const cell = add(row, "td", text);
            if (status && status !== "achieved") add(cell, "em", " (" + status + ")");
            cite(cell, sources, order);
          }
        });
      }
      if (order.length) {
        folded(box, t("sources") + " (" + order.length + ")", details => {
          const notes = add(details, "ol", null, "atlas-sources");
          for (const i of order) add(notes, "li", data.sources[i]);
        });
      }
      if (config.book) {
        const link = add(add(box, "p", null, "atlas-more"), "a", t("page"));
        link.href = "places/" + encodeURIComponent(id) + ".html";
      }
      return box;
    }
    function districtPopup(code) {
      const [names, , places, rest] = data.districts[code];
      const count = counts[code] || {all: 0, national: 0, municipal: 0, international: 0};
      const box = add(null, "div", null, "atlas-popup");
      add(box, "h4", core.label(names, state.lang));
      const levels = ["national", "municipal", "international"].filter(level => count[level])
        .map(level => count[level] + " " + core.label(T[level], state.lang));
      add(box, "p", tn("designations", count.all) + (levels.length ? " (" + levels.join(", ") + ")" : ""));
      if (places.length && core.isEmpty(state.filter)) {
        const list = add(box, "ul");
        for (const [en, zh, n] of places) add(list, "li", core.label([en, zh], state.lang) + ": " + n);
        if (rest > 0) add(list, "li", "\u2026 +" + rest);
      }
      return box;
    }
    function stackPopup(latlng, features) {
      const ids = [...new Set(features.map(f => f.properties.p))];
      const box = add(null, "div", null, "atlas-popup");
      add(box, "h4", tn("places", ids.length));
      if (ids.every(id => data.places[id][5])) add(box, "p", t("approximateMany"), "atlas-approximate");
      const list = add(box, "ul", null, "atlas-stack");
      for (const id of ids.slice(0, config.listed)) {
        const link = add(add(list, "li"), "a", core.label(data.places[id][0], state.lang));
        link.href = core.formatHash(id, state.lang);
        link.addEventListener("click", event => { event.preventDefault(); open(latlng, "place", id); });
      }
      if (ids.length > config.listed) add(list, "li", "\u2026 +" + (ids.length - config.listed));
      return box;
    }
    let outline = null;
    function show(latlng, content, place) {
      const size = map.getSize();
      const limits = core.popupLimits(size.x, size.y);
      state.place = place;
      // clear of the column of buttons on the right, and of the attribution below
      const popup = L.popup(Object.assign({autoPanPaddingTopLeft: L.point(10, narrow ? 112 : 10),
        autoPanPaddingBottomRight: L.point(56, 30), className: "atlas-popup-frame"}, limits))
        .setLatLng(latlng).setContent(content).openOn(map);
      const inner = popup.getElement().querySelector(".leaflet-popup-content");
      inner.style.maxHeight = limits.maxHeight + "px";  // however far its folded parts open
      inner.style.overflowY = "auto";
      for (const details of content.querySelectorAll("details")) {
        details.addEventListener("toggle", () => {
          popup.update();
          if (popup._adjustPan) popup._adjustPan();
        });
      }
      if (outline) map.removeLayer(outline);
      outline = null;
      if (place && data.places[place][5]) {
        const geometry = shapes.geometry(data.places[place][2]);
        if (geometry) {
          outline = L.geoJson(geometry, {interactive: false, style: {color: "#d7301f", weight: 3, dashArray: "6 4",
            fill: false}}).addTo(map);
        }
      }
      updateAddress();
    }
    function open(latlng, kind, key) {
      show(latlng, kind === "district" ? districtPopup(key) : placePopup(key), kind === "district" ? null : key);
    }
    function fieldText(field, props, value) {
      if (field === "designations") {
        const n = (counts[props.p] || {all: 0}).all;
        return tn("designations", n);
      }
      if (value === null || value === undefined || value === "\u2013") return null;
      if (field === "batch") return state.lang === "zh" ? "第" + value + "批" : "batch " + value;
      if (field === "year") return String(value);
      return String(value) + (config.units[field] ? " " + core.label(config.units[field], state.lang) : "");
    }
    function tooltip(kind, fields, layer) {
      const features = layer.features || [layer.feature];
      const props = features[0].properties;
      const ids = [...new Set(features.map(f => f.properties.p))];
      if (ids.length > 1) {
        const names = ids.slice(0, 3).map(id => core.label(data.places[id][0], state.lang));
        return add(null, "span", core.join([tn("places", ids.length) + ": " + names.join(", ")
          + (ids.length > 3 ? ", \u2026" : "")]));
      }
      const names = (kind === "district" ? data.districts : data.places)[props.p][0];
      let extra = 0;
      const parts = [core.label(names, state.lang)];
      for (const field of fields) {
        if (field === "name_en" || field === "name_zh") continue;
        const value = props.t ? props.t[extra++] : null;
        parts.push(fieldText(field, props, value));
      }
      if (kind === "place" && props.q) parts.push(t("approximateShort"));
      return add(null, "span", core.join(parts));
    }
    for (const entry of entries) {
      const layer = entry.layer;
      layer.on("click", e => {
        const l = e.layer || e.propagatedFrom;
        if (!l || !l.feature) return;
        const latlng = l.getLatLng ? l.getLatLng() : e.latlng;
        if (l.features && new Set(l.features.map(f => f.properties.p)).size > 1) {
          show(latlng, stackPopup(latlng, l.features), null);
        } else {
          open(latlng, entry.kind, l.feature.properties.p);
        }
      });
      layer.bindTooltip(l => tooltip(entry.kind, entry.fields, l), {sticky: true, className: "atlas-tooltip"});
      if (entry.cluster) layer.on("stack", e => show(e.latlng, stackPopup(e.latlng, e.features), null));
    }
    map.on("popupopen", () => map.getContainer().classList.add("atlas-popup-open"));
    map.on("popupclose", e => {
      map.getContainer().classList.remove("atlas-popup-open");
      if (map._popup && map._popup !== e.popup && map._popup.isOpen()) return;
      setTimeout(() => {
        if (map._popup && map._popup.isOpen()) return;
        state.place = null;
        if (outline) map.removeLayer(outline);
        outline = null;
        updateAddress();
      }, 0);
    });

    // --- points: each point drawn once, designations above places, clusters beneath ---
    const points = entries.filter(e => e.layer instanceof L.AtlasPoints);
    const districtLayers = entries.filter(e => !(e.layer instanceof L.AtlasPoints));
    function settle() {  // which layer draws a shared point: the one above, listing the places beneath
      const order = [...points.filter(e => !e.cluster).reverse(), ...points.filter(e => e.cluster)]
        .filter(e => !e.proportional);  // a size symbol is never left out, nor leaves others out
      const owner = new Map();  // point key -> the entry that draws it
      const extras = new Map();  // entry -> point key -> features of the layers beneath
      for (const entry of order) {
        if (!entry.layer._map) continue;
        const mine = [];
        for (const [key, features] of entry.layer.keptGroups()) {
          const top = owner.get(key);
          if (top === undefined) {
            mine.push(key);
            continue;
          }
          if (!extras.has(top)) extras.set(top, new Map());
          const shared = extras.get(top);
          shared.set(key, (shared.get(key) || []).concat(features));
        }
        for (const key of mine) owner.set(key, entry);
      }
      for (const entry of order) {
        const taken = key => {
          const top = owner.get(key);
          return top !== undefined && top !== entry;
        };
        entry.layer.setTaken(entry.layer._map ? taken : null, extras.get(entry));
      }
      for (const entry of points) {
        if (entry.proportional && entry.layer._waiting) entry.layer.setTaken(null);
      }
    }
    function backOrder() {  // clusters and crowded places beneath the designations, districts beneath all
      const renderer = map.getRenderer(L.circleMarker([0, 0]));
      if (!renderer || !renderer._bringToBack) return;
      for (const entry of points) {
        if (!entry.cluster || !entry.layer._map) continue;
        entry.layer.eachLayer(l => l._renderer && l.bringToBack());
        entry.layer._clusters.eachLayer(l => l._renderer && l.bringToBack());
      }
      for (const entry of points) {  // size symbols beneath the markers they would hide
        if (entry.proportional && entry.layer._map) entry.layer.eachLayer(l => l._renderer && l.bringToBack());
      }
      for (const entry of districtLayers.slice().reverse()) {
        if (entry.layer._map) entry.layer.eachLayer(l => l._renderer && l.bringToBack());
      }
    }
    for (const entry of points) {
      if (entry.cluster || entry.proportional) entry.layer.on("drawn", backOrder);
    }
    map.on("overlayadd overlayremove", settle);

    // --- the filter: designation layers, the places, the shading and the counts follow it ---
    const shading = districtLayers.filter(e => e.bins);
    function applyFilter() {
      counts = core.districtCounts(designationList(), state.filter);
      matchingPlaces = null;
      if (!core.isEmpty(state.filter)) {
        matchingPlaces = new Set(designationList().filter(keep).map(d => d.place));
      }
      for (const entry of entries) {
        if (entry.draw === "designations") {
          const test = props => keep({programme: String(props.g === undefined ? entry.programme : props.g),
            batch: props.b, year: props.y});
          if (entry.layer instanceof L.AtlasPoints) entry.layer._keep = core.isEmpty(state.filter) ? null : test;
          else filterPolygons(entry, test);
        } else if (entry.draw === "places") {  // a place shows while one of its designations matches
          const test = props => matchingPlaces.has(props.p);
          if (entry.layer instanceof L.AtlasPoints) entry.layer._keep = matchingPlaces ? test : null;
        }
      }
      for (const entry of shading) {
        entry.layer.eachLayer(polygon => {
          const code = polygon.feature.properties.p;
          const n = (counts[code] || {all: 0}).all;
          polygon.setStyle({fillColor: entry.colours[core.binIndex(n, entry.bins)]});
        });
      }
      settle();
      backOrder();
      if (filterPanel) {
        filterPanel.badge(core.isEmpty(state.filter) ? "" : String(designationList().filter(keep).length));
      }
      refreshCount();
      refreshLegend();
      if (state.place && map._popup && map._popup.isOpen()) open(map._popup.getLatLng(), "place", state.place);
    }
    function filterPolygons(entry, test) {
      if (!entry.all) entry.all = entry.layer.getLayers();
      for (const polygon of entry.all) {
        const shown = core.isEmpty(state.filter) || test(polygon.feature.properties);
        if (shown && !entry.layer.hasLayer(polygon)) entry.layer.addLayer(polygon);
        if (!shown && entry.layer.hasLayer(polygon)) entry.layer.removeLayer(polygon);
      }
    }

    // --- panels: a button each on a phone, opened by default on a desktop where asked ---
    const panels = [];
    const MIN_ROOM = 160;  // pixels a panel's body needs to be of use
    const EDGE = 28;  // pixels kept clear at the map's edge: the attribution's line, a margin
    /** Every open panel fitted to the room the map leaves it, from the top down. One pushed to the
     * edge by those above it folds, unless it is the one just `opened`: then those above fold. */
    function refit(opened) {
      const open = () => panels.filter(p => p.isOpen()).sort((a, b) =>
        a.box().getBoundingClientRect().top - b.box().getBoundingClientRect().top);
      for (const p of open()) {
        if (!p.isOpen() || p.fit() >= MIN_ROOM) continue;
        if (p !== opened) p.show(false);
        else for (const q of open()) if (q !== p && q.box().parentNode === p.box().parentNode) q.show(false);
      }
      for (const p of open()) p.fit();  // those below a folded one have more room
    }
    map.on("resize", () => refit(null));
    function panel(position, key, symbol, openOnDesktop, build, onOpen) {
      const control = L.control({position});
      let box, body, button;
      control.onAdd = function () {
        box = L.DomUtil.create("div", "atlas-panel atlas-panel-" + key + " leaflet-control leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        button = add(box, "button", symbol, "atlas-toggle");
        button.type = "button";
        body = add(box, "div", null, "atlas-body");
        button.addEventListener("click", () => setOpen(!box.classList.contains("atlas-open")));
        button.dataset.symbol = symbol;
        build(body);
        setOpen(openOnDesktop && !narrow);
        return box;
      };
      function show(open) {
        box.classList.toggle("atlas-open", open);
        button.textContent = open ? "\u00d7" : button.dataset.symbol + (badge ? " " + badge : "");
        button.setAttribute("aria-expanded", String(open));
      }
      function setOpen(open) {
        show(open);
        if (open) {
          if (onOpen) onOpen();
          const mine = box.getBoundingClientRect();
          for (const other of panels) {  // one panel at a time on a phone; elsewhere, none over another
            if (other === handle || !other.isOpen()) continue;
            const theirs = other.box().getBoundingClientRect();
            const overlap = !(theirs.right <= mine.left || theirs.left >= mine.right || theirs.bottom <= mine.top
              || theirs.top >= mine.bottom);
            if (narrow || overlap) other.show(false);
          }
        }
        refit(open ? handle : null);
      }
      /** The body as tall as the map leaves it room for (it scrolls), never cut off at the
       * map's edge or under the attribution; the room, in pixels. */
      function fit() {
        body.style.maxHeight = "";
        const frame = map.getContainer().getBoundingClientRect(), own = body.getBoundingClientRect();
        const room = Math.floor(position.startsWith("top") ? frame.bottom - own.top - EDGE : own.bottom - frame.top - EDGE);
        if (room < parseFloat(window.getComputedStyle(body).maxHeight)) body.style.maxHeight = Math.max(room, 0) + "px";
        return room;
      }
      let badge = "";
      const handle = {control, setOpen, show, fit, key, isOpen: () => box.classList.contains("atlas-open"), box: () => box,
        badge: text => {  // shown on the folded button: how many match
          badge = text;
          if (!box.classList.contains("atlas-open")) button.textContent = symbol + (badge ? " " + badge : "");
          box.classList.toggle("atlas-badged", Boolean(badge));
        },
        label: () => {
        button.title = t(key);
        button.setAttribute("aria-label", t(key));
      }};
      panels.push(handle);
      control.addTo(map);
      if (handle.isOpen()) refit(handle);  // open from the start: fitted once it is on the page
      handle.label();
      return handle;
    }

    // The layer list, by group.
    let layerBody = null;
    function refreshLayers() {
      if (!layerBody) return;
      layerBody.replaceChildren();
      add(layerBody, "h4", t("layers"));
      let group = null;
      for (const entry of entries) {
        const heading = core.label(entry.groupTitle, state.lang);
        if (heading !== group) {
          add(layerBody, "h5", heading);
          group = heading;
        }
        toggleRow(entry.group, entry.title, entry.id);
      }
      for (const tile of config.tiles) toggleRow(byName(tile.layer), tile.title, null);
    }
    function toggleRow(layer, title, id) {  // a layer's checkbox: on the map or not
      const row = add(layerBody, "label", null, "atlas-layer");
      const box = add(row, "input");
      box.type = "checkbox";
      box.checked = map.hasLayer(layer);
      if (id) box.dataset.layer = id;
      box.addEventListener("change", () => {
        if (box.checked) map.addLayer(layer);
        else map.removeLayer(layer);
        map.fire(box.checked ? "overlayadd" : "overlayremove", {layer});
      });
      add(row, "span", core.label(title, state.lang));
    }

    // The legend: only layers on the map, only values present.
    let legendBody = null;
    function presentValues(entry) {
      if (entry.bins) {
        return new Set(Object.keys(data.districts).map(code => core.binIndex((counts[code] || {all: 0}).all,
          entry.bins)));
      }
      if (!(entry.layer instanceof L.AtlasPoints) || !entry.layer.columns.c) return null;
      const keepIt = entry.layer._keep;
      return new Set(entry.layer.features().filter(f => !keepIt || keepIt(f.properties)).map(f => f.properties.c));
    }
    function refreshLegend() {
      if (!legendBody) return;
      legendBody.replaceChildren();
      add(legendBody, "h4", t("legend"));
      let approximate = false;
      for (const entry of entries) {
        if (!map.hasLayer(entry.group)) continue;
        const present = presentValues(entry);
        const items = present ? core.presentItems(entry.legend.items, present) : entry.legend.items;
        if (!items.length) continue;
        const title = core.label(entry.legend.title, state.lang);
        if (items.length === 1 && core.label(items[0][0], state.lang) === title) {
          const row = add(legendBody, "div", null, "atlas-legend-row atlas-legend-single");
          add(row, "i", null, items[0][2]).style.background = items[0][1];
          add(row, "span", title);
          if (entry.approximate) approximate = true;
          continue;
        }
        add(legendBody, "h5", title);
        for (const [text, colour, shape, , diameter] of items) {
          const row = add(legendBody, "div", null, "atlas-legend-row");
          const swatch = add(row, "i", null, shape);
          swatch.style.background = colour;
          if (diameter) swatch.style.width = swatch.style.height = diameter + "px";  // a size symbol's size
          add(row, "span", core.label(text, state.lang));
        }
        if (entry.approximate) approximate = true;
      }
      if (approximate) {
        const row = add(legendBody, "div", null, "atlas-legend-row");
        add(row, "i", null, "circle atlas-dashed");
        add(row, "span", t("approximateLegend"));
      }
    }

    // The filter.
    let countLine = null, filterBody = null, filterPanel = null;
    function refreshCount() {
      if (!countLine || !filterPanel.isOpen()) return;  // made when shown
      const designations = designationList();
      const matching = designations.filter(keep);
      const lang = state.lang === "both" ? "en" : state.lang;
      countLine.textContent = core.label(T.matching, lang).replace("{n}", core.countText(matching.length,
        designations.length, lang)).replace("{p}", new Set(matching.map(d => d.place)).size);
    }
    function refreshFilter() {
      if (!filterBody || !filterPanel || !filterPanel.isOpen()) return;  // made when shown
      const designations = designationList();
      filterBody.replaceChildren();
      add(filterBody, "h4", t("filter"));
      const present = (key, d) => key === "programme" ? d.programme
        : key === "batch" ? (d.batch === null ? null : core.batchKey(d.programme, d.batch))
          : (d.year === null ? "unknown" : String(d.year));
      for (const key of ["programme", "batch", "year"]) {
        const row = add(filterBody, "label", null, "atlas-filter-row");
        add(row, "span", t(key));
        const select = add(row, "select");
        select.name = key;
        const others = Object.assign({}, state.filter, {[key]: ""});
        const values = new Set(designations.filter(d => core.matches(others, d)).map(d => present(key, d)));
        values.delete(null);
        const options = [["", t("all")]];
        if (key === "programme") {
          for (const i of [...values].sort((a, b) => Number(a) - Number(b))) {
            options.push([i, core.label(programmes[i], state.lang)]);
          }
        } else if (key === "batch") {
          const sorted = [...values].sort((a, b) => {
            const [pa, ba] = a.split("|"), [pb, bb] = b.split("|");
            return Number(pa) - Number(pb) || Number(ba) - Number(bb);
          });
          for (const value of sorted) {
            const [programme, batch] = value.split("|");
            options.push([value, core.label(programmes[programme], state.lang) + ": "
              + (state.lang === "zh" ? "第" + batch + "批" : "batch " + batch)]);
          }
        } else {
          const sorted = [...values].sort();
          for (const value of sorted) options.push([value, value === "unknown" ? t("unknown") : value]);
        }
        for (const [value, text] of options) {
          const option = add(select, "option", text);
          option.value = value;
        }
        select.value = options.some(([value]) => value === state.filter[key]) ? state.filter[key] : "";
        select.addEventListener("change", () => {
          state.filter[key] = select.value;
          if (key === "programme" && state.filter.batch && !state.filter.batch.startsWith(select.value + "|")) {
            state.filter.batch = "";
          }
          applyFilter();
          refreshFilter();
        });
      }
      countLine = add(filterBody, "p", null, "atlas-count");
      const reset = add(filterBody, "button", t("reset"), "atlas-reset");
      reset.type = "button";
      reset.disabled = core.isEmpty(state.filter);
      reset.addEventListener("click", () => {
        state.filter = core.emptyFilter();
        applyFilter();
        refreshFilter();
      });
      refreshCount();
    }

    // The links: the book, the printable map, the downloads; and the sources of the facts.
    let linksBody = null;
    function refreshLinks() {
      if (!linksBody) return;
      linksBody.replaceChildren();
      add(linksBody, "h4", t("links"));
      const list = add(linksBody, "ul");
      for (const link of config.links) {
        const a = add(add(list, "li"), "a", core.label(link.title, state.lang));
        a.href = link.href;
      }
      add(linksBody, "h5", t("credits"));
      const credits = add(linksBody, "ul", null, "atlas-credits");
      for (const credit of config.credits) add(credits, "li", core.label(credit, state.lang));
    }

    // The language.
    let languageSelect = null;
    function setLanguage(lang) {
      state.lang = lang;
      document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
      if (languageSelect) languageSelect.value = lang;
      refreshAll();
      if (map._popup && map._popup.isOpen()) {
        if (state.place) open(map._popup.getLatLng(), "place", state.place);
        else map.closePopup();
      }
      updateAddress();
    }
    function refreshAll() {
      panels.forEach(p => p.label());
      refreshLayers();
      refreshLegend();
      refreshFilter();
      refreshLinks();
      refreshLabels();
      refreshAttribution();
      listeners.forEach(listener => listener(state));
    }

    // The address and the title follow the selected place.
    function updateAddress() {
      const hash = core.formatHash(state.place, state.lang);
      if (window.location.hash !== hash && (hash || window.location.hash)) {
        window.history.replaceState(null, "", hash || window.location.pathname + window.location.search);
      }
      const title = t("title");
      document.title = state.place ? core.label(data.places[state.place][0], state.lang) + " \u2013 " + title : title;
    }
    let notice = null;
    function warn(text) {
      if (!notice) {
        notice = L.control({position: "bottomleft"});
        notice.onAdd = () => {
          const box = L.DomUtil.create("div", "atlas-notice leaflet-control");
          L.DomEvent.disableClickPropagation(box);
          return box;
        };
        notice.addTo(map);
      }
      const box = notice.getContainer();
      box.replaceChildren();
      box.setAttribute("role", "alert");
      add(box, "span", text);
      const close = add(box, "button", "\u00d7");
      close.type = "button";
      close.setAttribute("aria-label", t("close"));
      close.addEventListener("click", () => box.replaceChildren());
      box.style.display = "";
    }
    function fromHash() {
      const wanted = core.parseHash(window.location.hash);
      if (wanted.lang && wanted.lang !== state.lang) setLanguage(wanted.lang);
      if (!wanted.place || wanted.place === state.place) return;
      const found = locatePlace(wanted.place);
      if (!found) {
        warn(t("noPlace") + ": \u201c" + wanted.place + "\u201d");
        return;
      }
      if (notice) notice.getContainer().replaceChildren();
      if (found.bounds) map.fitBounds(found.bounds, {animate: false});
      else map.setView(found.latlng, Math.max(map.getZoom(), config.zoom), {animate: false});
      open(found.latlng, "place", wanted.place);
    }
    /** Where a place is drawn: its point (the index of places first), or the middle of the
     * outline of a place drawn as one (Chongqing as a whole), with the outline's bounds. */
    function locatePlace(id) {
      if (!data.places[id]) return null;
      const index = layers[config.index];
      for (const entry of index ? [{layer: index}, ...entries] : entries) {
        if (entry.layer instanceof L.AtlasPoints) {
          const latlng = entry.layer.locate(id);
          if (latlng) return {latlng};
        } else if (entry.kind === "place") {
          const outline = (entry.all || entry.layer.getLayers()).find(l => l.feature.properties.p === id);
          if (outline) return {latlng: outline.getBounds().getCenter(), bounds: outline.getBounds()};
        }
      }
      return null;
    }

    // District names at the zooms where they fit.
    const labelLayer = L.layerGroup().addTo(map);
    function refreshLabels() {
      labelLayer.clearLayers();
      const labels = shapes.labels || {};
      const zoom = map.getZoom();
      for (const [code, [lat, lon, west, south, east, north]] of Object.entries(labels)) {
        if (!data.districts[code]) continue;
        const a = map.project([south, west], zoom), b = map.project([north, east], zoom);
        const width = Math.abs(b.x - a.x), height = Math.abs(b.y - a.y);
        const text = core.label(data.districts[code][0], state.lang === "both" ? "en" : state.lang);
        if (width < text.length * 6.5 + 10 || height < 28 || zoom < config.labelZoom) continue;
        const html = document.createElement("span");
        html.textContent = text;
        labelLayer.addLayer(L.marker([lat, lon], {interactive: false, keyboard: false, pane: "atlasLabels",
          icon: L.divIcon({html, className: "atlas-district-label", iconSize: null})}));
      }
    }
    map.on("zoomend", refreshLabels);

    // Attribution: every data source, and a prefix with no flag.
    let attributionBox = null;
    function refreshAttribution() {
      if (!attributionBox) {
        const control = L.control({position: "bottomright"});
        control.onAdd = () => L.DomUtil.create("div", "atlas-attribution leaflet-control-attribution leaflet-control");
        control.addTo(map);
        attributionBox = control.getContainer();
      }
      attributionBox.replaceChildren();
      const leaflet = add(attributionBox, "a", "Leaflet");
      leaflet.href = "https://leafletjs.com";
      const lang = state.lang === "both" ? "en" : state.lang;
      add(attributionBox, "span", " | " + config.attribution.map(part => core.label(part, lang)).join(" | "));
    }

    // Search every name of the places (English, Chinese, aliases), in the page's language.
    function search(layer) {
      let records = null;
      listeners.push(() => { records = null; });
      function all() {
        if (!records) {
          const columns = layer.columns;
          records = {};
          columns.p.forEach((p, i) => {
            const names = data.places[p][0];  // every name, so any finds it; the page's language first
            const ordered = state.lang === "zh" ? [names[1], names[0]] : names;
            const text = core.join([...ordered, ...(columns.a ? columns.a[i] : [])], " / ");
            records[text] = Object.assign(layer.latlng(i), {p});
          });
        }
        return records;
      }
      const control = new L.Control.Search({
        sourceData: (text, found) => found(all()),
        formatData: found => found,
        buildTip: text => add(null, "li", text),
        initial: false, collapsed: narrow, autoCollapse: true, autoResize: false, zoom: config.zoom,
        tooltipLimit: config.searchLimit, textPlaceholder: t("search"), position: "topright",
        hideMarkerOnCollapse: true, marker: false,
      });
      control.on("search:locationfound", e => {
        open(e.latlng, "place", e.latlng.p);
        control.collapse();
      });
      map.addControl(control);
      listeners.push(() => { control._input.placeholder = t("search"); });
    }

    // Build the controls.
    if (config.search) search(layers[config.search]);
    panel("topright", "layers", "\u2630", false, body => { layerBody = body; refreshLayers(); });
    if (hasDesignations) {  // folded: open, it would cover the east of the municipality
      filterPanel = panel("topright", "filter", "\u25bd", false, body => { filterBody = body; },
        () => refreshFilter());
    }
    panel("topright", "links", "i", false, body => { linksBody = body; refreshLinks(); });
    const languages = L.control({position: "topright"});
    languages.onAdd = () => {
      const box = L.DomUtil.create("div", "atlas-language leaflet-control leaflet-bar");
      L.DomEvent.disableClickPropagation(box);
      languageSelect = add(box, "select");
      languageSelect.setAttribute("aria-label", "Language / 语言");
      for (const [value, text] of [["both", "EN·中"], ["en", "EN"], ["zh", "中文"]]) {
        add(languageSelect, "option", text).value = value;
      }
      languageSelect.addEventListener("change", () => setLanguage(languageSelect.value));
      return box;
    };
    languages.addTo(map);
    refreshAttribution();  // first: the bottom corner stacks upwards
    panel("bottomright", "legend", "\u25a6", true, body => { legendBody = body; refreshLegend(); });
    map.on("overlayadd overlayremove", () => {
      refreshLegend();
      if (!layerBody) return;
      for (const box of layerBody.querySelectorAll("input[data-layer]")) {
        box.checked = map.hasLayer(entries.find(e => e.id === box.dataset.layer).group);
      }
    });

    window.addEventListener("hashchange", fromHash);
    const started = core.parseHash(window.location.hash);
    state.lang = started.lang || "both";
    refreshAll();
    if (languageSelect) languageSelect.value = state.lang;
    document.documentElement.lang = state.lang === "zh" ? "zh-Hans" : "en";
    document.title = t("title");
    settle();
    backOrder();
    window.addEventListener("load", fromHash);  // after the page's own fit to Chongqing
    return {open, state, entries: entries.map(e => ({id: e.id, layer: e.layer, group: e.group})), setLanguage,
      filter: applyFilter};
  }

  return {json, districtShapes, districtLayer, setup};
})();
