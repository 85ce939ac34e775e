/*
 * L.AtlasPoints: a point layer kept as columns, made into circle markers only once shown.
 *
 * Most of a large map's points are in layers hidden at first; building their Leaflet layers up
 * front took seconds. A clustered layer is indexed by supercluster when shown and draws only the
 * clusters and points in view (clusters on the map's canvas, their counts as labels that take no
 * clicks); a cluster whose places stay together at the closest zoom fires `stack` with them.
 * Features at one point become one marker that lists them (`marker.features`). `setTaken(key ->
 * bool)` leaves out points another layer draws, `setFilter(properties -> bool)` features.
 * `columns` may be a function: a layer hidden at first parses its data only when shown.
 */
(function () {
  "use strict";

  L.AtlasPoints = L.FeatureGroup.extend({
    initialize: function (columns, options) {
      L.FeatureGroup.prototype.initialize.call(this, [], options);
      // The columns, or a function that gives them, called when they are first needed.
      let given = typeof columns === "function" ? null : columns;
      Object.defineProperty(this, "columns", {get: () => given || (given = columns())});
      this._keep = null;  // properties -> shown?, or null for every feature
      this._taken = null;  // point key -> drawn by another layer?
      this._extra = null;  // point key -> features of other layers drawn by this one's marker there
      this._markers = new Map();  // point key -> its circle marker, made when first drawn
      this._clusters = L.layerGroup();  // kept apart: popups and tooltips are for places only
      this._labels = L.layerGroup();
      this._stale = true;
      this._waiting = Boolean(options.deferred);  // drawn first when the page has settled who draws what
    },
    features: function () {
      if (!this._features) {
        const columns = this.columns, palette = this.options.palette, scale = this.options.scale;
        const names = Object.keys(columns).filter(name => name !== "lon" && name !== "lat");
        this._features = columns.lon.map((lon, i) => {
          const properties = {};
          for (const name of names) properties[name] = columns[name][i];
          if (palette) properties.c = palette[properties.c];
          const lat = columns.lat[i];
          return {type: "Feature", geometry: {type: "Point", coordinates: [lon / scale, lat / scale]},
            properties, lon, lat, key: AtlasCore.pointKey(lon, lat)};
        });
      }
      return this._features;
    },
    latlng: function (i) {
      return L.latLng(this.columns.lat[i] / this.options.scale, this.columns.lon[i] / this.options.scale);
    },
    locate: function (p) {
      const i = this.columns.p.indexOf(p);
      return i < 0 ? null : this.latlng(i);
    },
    /** The features the filter keeps, grouped by point. */
    keptGroups: function () {
      if (this._keptFor !== this._keep || !this._kept) {
        this._keptFor = this._keep;
        this._kept = AtlasCore.groupByPoint(this._keep ? this.features().filter(f => this._keep(f.properties))
          : this.features());
      }
      return this._kept;
    },
    /** The groups drawn: kept, not at a point another layer draws, with the places of the
     * layers beneath that share their point (`setExtra`). */
    shownGroups: function () {
      const taken = this._taken, extra = this._extra;
      const groups = taken ? this.keptGroups().filter(([key]) => !taken(key)) : this.keptGroups();
      return extra ? groups.map(([key, features]) => [key, extra.has(key) ? features.concat(extra.get(key)) : features])
        : groups;
    },
    /** The point keys this layer draws (for the layers beneath it), whatever the view. */
    drawnKeys: function () {
      return new Set(this.shownGroups().map(([key]) => key));
    },
    setFilter: function (keep) {
      this._keep = keep;
      this._refresh();
    },
    setTaken: function (taken, extra) {
      this._taken = taken;
      this._extra = extra || null;
      this._waiting = false;
      this._refresh();
    },
    _refresh: function () {
      this._index = null;
      this._stale = true;
      if (this._map) this._draw();
    },
    onAdd: function (map) {
      L.FeatureGroup.prototype.onAdd.call(this, map);
      if (!map.getPane("atlasLabels")) map.createPane("atlasLabels").style.zIndex = 450;  // takes no clicks
      if (this.options.cluster) {
        this._clusters.addTo(map);
        this._labels.addTo(map);
        map.on("moveend", this._draw, this);
      }
      this._draw();
    },
    onRemove: function (map) {
      if (this.options.cluster) {
        map.off("moveend", this._draw, this);
        map.removeLayer(this._clusters);
        map.removeLayer(this._labels);
      }
      L.FeatureGroup.prototype.onRemove.call(this, map);
    },
    _draw: function () {
      if (this._waiting) return;
      if (this.options.cluster) this._drawClusters();
      else if (this._stale) {
        this._stale = false;
        this.clearLayers();
        for (const [key, features] of this.shownGroups()) this.addLayer(this._marker(key, features));
      }
      this.fire("drawn");
    },
    _drawClusters: function () {
      const map = this._map;
      if (!this._index) {
        // Small fresh objects, a group's index as their only property: supercluster indexes them
        // several times faster than the features themselves.
        const groups = this._groups = this.shownGroups();
        const points = groups.map(([, features], i) => ({type: "Feature", properties: {i},
          geometry: {type: "Point", coordinates: features[0].geometry.coordinates.slice()}}));
        const options = Object.assign({maxZoom: map.getMaxZoom()}, this.options.cluster);
        this._index = new Supercluster(options).load(points);
      }
      const view = map.getBounds().pad(0.5);
      const found = this._index.getClusters([view.getWest(), view.getSouth(), view.getEast(), view.getNorth()],
        Math.floor(map.getZoom()));
      this.clearLayers();
      this._clusters.clearLayers();
      this._labels.clearLayers();
      for (const item of found) {
        if (item.properties.cluster) this._cluster(item);
        else this.addLayer(this._marker(...this._groups[item.properties.i]));
      }
    },
    _marker: function (key, features) {
      let marker = this._markers.get(key);
      if (!marker || marker.features.length !== features.length || marker.features[0] !== features[0]) {
        const [lon, lat] = features[0].geometry.coordinates, properties = features[0].properties;
        const style = Object.assign({}, this.options.style);
        if (properties.c !== undefined) style.fillColor = properties.c;
        if (properties.r !== undefined) style.radius = properties.r;
        if (features.every(f => f.properties.q)) {  // located only to its district: dashed, paler
          style.dashArray = "3 2";
          style.fillOpacity = Math.min(style.fillOpacity === undefined ? 1 : style.fillOpacity, 0.45);
        }
        if (features.length > 1 && new Set(features.map(f => f.properties.p)).size > 1) {
          style.radius = (style.radius || 6) + 2;  // a marker that lists several places
        }
        marker = L.circleMarker([lat, lon], style);
        marker.feature = features[0];
        marker.features = features;
        this._markers.set(key, marker);
      }
      return marker;
    },
    _cluster: function (item) {  // markercluster's look, drawn on the canvas beneath the other layers
      const count = item.properties.point_count, [lon, lat] = item.geometry.coordinates;
      const size = count < 10 ? "small" : count < 100 ? "medium" : "large";
      const colours = {small: ["#b5e2a0", "#6ecc39"], medium: ["#f1d357", "#f0c20c"], large: ["#fd9c73", "#f18017"]};
      const circle = L.circleMarker([lat, lon], {radius: 15, weight: 5, color: colours[size][0], opacity: 0.6,
        fillColor: colours[size][1], fillOpacity: 0.7, bubblingMouseEvents: false});
      circle.cluster = true;
      circle.on("click", () => {
        const id = item.properties.cluster_id, zoom = this._index.getClusterExpansionZoom(id);
        if (zoom <= this._map.getMaxZoom()) this._map.setView(circle.getLatLng(), zoom);
        else {
          const leaves = this._index.getLeaves(id, Infinity).flatMap(leaf => this._groups[leaf.properties.i][1]);
          this.fire("stack", {latlng: circle.getLatLng(), features: leaves});
        }
      });
      this._clusters.addLayer(circle);
      const html = document.createElement("span");
      html.textContent = count;
      this._labels.addLayer(L.marker([lat, lon], {interactive: false, keyboard: false, pane: "atlasLabels",
        icon: L.divIcon({html, className: "atlas-cluster-count", iconSize: L.point(30, 30)})}));
    },
  });
})();
