// The network map's own Leaflet pieces (app/components/map.py wraps them; they load in the browser only).
//
// Outlines: country outlines from a file shipped with the app (assets/world-outlines.geojson, Natural Earth
// 1:50m, public domain), drawn in a pane under the tiles. Without a tile server (offline, or MAP_TILE_URL
// empty) the map still shows land, sea and borders; when tiles load they cover the outlines.
//
// StatusClusterGroup: react-leaflet-cluster's group whose cluster icons take the colour of the worst status
// among the chargers inside (each circle marker carries its `status` in its options).
import { createElement, useCallback, useEffect } from "react";
import { useMap } from "react-leaflet";
import MarkerClusterGroup from "react-leaflet-cluster";
import { divIcon, geoJSON, point } from "leaflet";

const OUTLINE_STYLE = { color: "#a9b4bf", weight: 0.8, fillColor: "#f4f2ec", fillOpacity: 1 };

export function Outlines({ url }) {
  const map = useMap();
  useEffect(() => {
    let layer = null;
    let cancelled = false;
    if (!map.getPane("outlines")) {
      const pane = map.createPane("outlines");
      pane.style.zIndex = "150"; // under the tile pane (200), over the map's plain background
      pane.classList.add("map-outlines");
    }
    fetch(url)
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (cancelled || !data) return;
        layer = geoJSON(data, {
          pane: "outlines", interactive: false, style: OUTLINE_STYLE, attribution: "Outlines: Natural Earth",
        }).addTo(map);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
      if (layer) layer.remove();
    };
  }, [map, url]);
  return null;
}

export function StatusClusterGroup({ worstFirst, colors, children, ...props }) {
  const order = worstFirst || [];
  const palette = colors || {};
  const iconCreateFunction = useCallback(
    (cluster) => {
      let rank = order.length;
      let worst = "";
      for (const marker of cluster.getAllChildMarkers()) {
        const i = order.indexOf(marker.options.status);
        if (i !== -1 && i < rank) {
          rank = i;
          worst = order[i];
        }
      }
      const n = cluster.getChildCount();
      const color = palette[worst] || "#8b8d98";
      return divIcon({
        html: `<div style="background-color:${color}"><span>${n}</span></div>`,
        className: `marker-cluster status-cluster cluster-${worst || "unknown"}`,
        iconSize: point(40, 40),
      });
    },
    // The palette and order come from the server once; a change re-creates the icons.
    [JSON.stringify(order), JSON.stringify(palette)],
  );
  return createElement(MarkerClusterGroup, { ...props, iconCreateFunction }, children);
}
