// The console's script: the map (Leaflet, vendored) and live updates (Server-Sent Events).
// Pages work without it; with it, markers and every element marked data-iot/data-field
// follow what the vehicles report, about a second after the gateway stores it.
"use strict";

(function () {
  const FORMAT = {
    link: (s) => s.link,
    lock: (s) => s.lock,
    riding: (s) => s.riding,
    battery: (s) => (s.battery == null ? "-" : s.battery + " %"),
    range: (s) => (s.range_m == null ? "-" : (s.range_m / 1000).toFixed(1) + " km"),
    speed: (s) => (s.speed == null ? "-" : s.speed + " km/h"),
    lat: (s) => (s.lat == null ? "-" : s.lat.toFixed(6)),
    lng: (s) => (s.lng == null ? "-" : s.lng.toFixed(6)),
  };
  const serverNow = Number(document.body.dataset.now || Date.now());
  const clockOffset = serverNow - Date.now();

  function age(reported) {
    if (!reported) return "never";
    return Math.max(0, Math.round((Date.now() + clockOffset - reported) / 1000)) + " s";
  }

  function tickAges() {
    for (const cell of document.querySelectorAll("[data-field=age]")) {
      cell.textContent = age(Number(cell.dataset.reported));
    }
  }

  // The map -----------------------------------------------------------------

  const mapElement = document.getElementById("map");
  const markers = new Map();
  let map = null;
  let trail = null;

  function markerLabel(s) {
    return "marker " + s.iot_code + " " + s.state;
  }

  function placeMarker(s) {
    if (!map || s.lat == null || s.lng == null) return;
    const single = mapElement.dataset.single;
    if (single && s.iot_code !== single) return;
    let marker = markers.get(s.iot_code);
    if (!marker) {
      marker = L.marker([s.lat, s.lng], {
        icon: L.divIcon({ className: "marker", iconSize: [14, 14] }),
        title: s.iot_code,
        keyboard: true,
      }).addTo(map);
      if (!single) {
        const open = () => { window.location.href = "/console/vehicles/" + s.iot_code; };
        marker.on("click", open);
        marker.getElement().addEventListener("keydown", (event) => {
          if (event.key === "Enter") open();
        });
      }
      markers.set(s.iot_code, marker);
    } else {
      marker.setLatLng([s.lat, s.lng]);
    }
    const element = marker.getElement();
    element.className = element.className.replace(/\b(locked|unlocked|riding|offline|unknown)\b/g, "").trim();
    element.classList.add("marker", s.state);
    element.dataset.iot = s.iot_code;
    element.dataset.state = s.state;
    element.dataset.lat = String(s.lat);
    element.dataset.lng = String(s.lng);
    element.setAttribute("aria-label", markerLabel(s));
    element.setAttribute("role", "button");
    const points = trail ? trail.getLatLngs() : [];
    const last = points[points.length - 1];
    if (trail && !(last && last.lat === s.lat && last.lng === s.lng)) trail.addLatLng([s.lat, s.lng]);
  }

  function drawBasemap(area) {
    // A plain basemap that needs no network: the area's outline and a grid.
    const pad = 0.01;
    const south = area.south - pad, north = area.north + pad, west = area.west - pad, east = area.east + pad;
    const step = Math.max(0.01, Math.round(((east - west) / 12) * 100) / 100);
    const grid = { color: "#c8c8c0", weight: 1, interactive: false };
    for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
      L.polyline([[lat, west], [lat, east]], grid).addTo(map);
    }
    for (let lng = Math.ceil(west / step) * step; lng <= east; lng += step) {
      L.polyline([[south, lng], [north, lng]], grid).addTo(map);
    }
    L.rectangle([[area.south, area.west], [area.north, area.east]], {
      color: "#57606a", weight: 2, fill: false, interactive: false,
    }).addTo(map).bindTooltip(area.name || "fleet area");
    map.fitBounds([[area.south, area.west], [area.north, area.east]]);
  }

  function startMap() {
    if (!mapElement || typeof L === "undefined") return;
    map = L.map(mapElement, { zoomSnap: 0.25, attributionControl: true });
    map.attributionControl.setPrefix(false);
    const tiles = mapElement.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
    }
    drawBasemap(JSON.parse(mapElement.dataset.area));
    for (const zone of JSON.parse(mapElement.dataset.zones || "[]")) {
      L.geoJSON(zone.geometry, { style: { color: "#b42318", weight: 2, fillOpacity: 0.15 } })
        .bindTooltip("no-parking zone " + zone.name + (zone.platform ? " (" + zone.platform + ")" : ""))
        .addTo(map);
    }
    if (mapElement.dataset.trail) {
      const points = JSON.parse(mapElement.dataset.trail);
      trail = L.polyline(points, { color: "#1f6feb", weight: 3, opacity: 0.6 }).addTo(map);
      if (points.length) map.setView(points[points.length - 1], 15);
    }
    const data = document.getElementById("fleet-data");
    for (const s of data ? JSON.parse(data.textContent) : []) placeMarker(s);
    if (mapElement.dataset.draw) startDrawing(document.getElementById(mapElement.dataset.draw));
  }

  function startDrawing(output) {
    // The admin's geofence: each click on the map adds a corner; the textarea gets the
    // polygon as GeoJSON ([longitude, latitude], the ring closed) from three corners on.
    const corners = [];
    const shape = L.polygon([], { color: "#b42318", weight: 2, dashArray: "4" }).addTo(map);
    map.on("click", (event) => {
      corners.push([event.latlng.lat, event.latlng.lng]);
      shape.setLatLngs(corners);
      if (corners.length < 3) return;
      const ring = corners.map(([lat, lng]) => [Number(lng.toFixed(6)), Number(lat.toFixed(6))]);
      output.value = JSON.stringify({ type: "Polygon", coordinates: [[...ring, ring[0]]] });
    });
    const clear = document.querySelector("[data-clear-drawing]");
    if (clear) {
      clear.addEventListener("click", () => {
        corners.length = 0;
        shape.setLatLngs([]);
        output.value = "";
      });
    }
  }

  // Live updates ------------------------------------------------------------

  function applyToPage(s) {
    for (const holder of document.querySelectorAll('[data-iot="' + s.iot_code + '"]')) {
      holder.dataset.state = s.state;
      for (const cell of holder.querySelectorAll("[data-field]")) {
        const field = cell.dataset.field;
        if (field === "age") {
          cell.dataset.reported = s.reported_ms || "";
          cell.textContent = age(s.reported_ms);
        } else if (FORMAT[field]) {
          cell.textContent = FORMAT[field](s);
        }
      }
    }
  }

  function startLive() {
    // EventSource retries by itself after a dropped stream, but gives up for good on an
    // answer that is not a stream (a draining instance's 503): then start it again, later.
    const status = document.querySelector("[data-live-status]");
    if (!status || typeof EventSource === "undefined") return;
    const only = mapElement && mapElement.dataset.single;
    const url = "/console/live" + (only ? "?iot=" + encodeURIComponent(only) : "");
    let wait = 1000;

    function connect() {
      const source = new EventSource(url);
      source.addEventListener("vehicles", (event) => {
        wait = 1000;
        for (const s of JSON.parse(event.data)) {
          placeMarker(s);
          applyToPage(s);
        }
        status.textContent = "live, updated " + new Date().toLocaleTimeString();
      });
      source.addEventListener("error", () => {
        status.textContent = "reconnecting…";
        if (source.readyState === EventSource.CLOSED) window.setTimeout(retry, wait);
      });
    }

    async function retry() {
      // refused for good: an instance draining (try again, later each time), or the
      // session ended (say so, and stop)
      const session = await fetch("/console/session", { redirect: "manual" }).catch(() => null);
      if (session && session.status !== 204) {
        status.innerHTML = 'session ended: <a href="/console">log in again</a>';
        return;
      }
      wait = Math.min(2 * wait, 30000);
      connect();
    }

    connect();
  }

  startMap();
  startLive();
  tickAges();
  window.setInterval(tickAges, 1000);
})();
