/// `GET /`: the live service graph, each proxy's sync status and the rejected configuration, in
/// one self-contained page (no CDN, no external asset: it works offline). It reads
/// `/api/graph`, `/api/proxies` and `/api/config-status` every two seconds with the admin token,
/// which it takes from the URL fragment (`/#token=...`, never sent to the server) or asks for,
/// and keeps in the tab's sessionStorage.
enum ServiceGraphPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Trellis · service graph</title>
        <style>
          :root { --ok: #2b8a3e; --warn: #e8590c; --muted: #868e96; --line: #dee2e6; }
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #212529; background: #f8f9fa; }
          header { background: #1c3d5a; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header .updated { color: #c5d3e0; font-size: 12px; }
          main { padding: 16px 20px; display: grid; gap: 16px; }
          section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; }
          h2 { font-size: 15px; margin: 0 0 8px; }
          svg text { font-size: 12px; }
          .node rect { fill: #e7f5ff; stroke: #1c7ed6; }
          .node.service rect { fill: #f3f0ff; stroke: #7048e8; }
          .edge path { fill: none; stroke: var(--ok); stroke-width: 2; }
          .edge.errors path { stroke: var(--warn); stroke-width: 3; }
          .edge text { fill: #343a40; }
          .edge.errors text { fill: var(--warn); font-weight: 600; }
          table { border-collapse: collapse; width: 100%; }
          th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); font-size: 13px; }
          .SYNCED { color: var(--ok); } .STALE { color: #f08c00; } .NACKED { color: #c92a2a; font-weight: 600; }
          .NOT-SENT, .empty { color: var(--muted); }
          .problem { color: #c92a2a; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
          #login { max-width: 480px; }
          #login input { width: 100%; padding: 6px; font-family: ui-monospace, monospace; }
          #error { color: #c92a2a; }
        </style>
        </head>
        <body>
        <header><h1>Trellis service graph</h1><span class="updated" id="updated"></span></header>
        <main>
          <section id="login" hidden>
            <h2>Admin token</h2>
            <p>Paste the admin token (<code>DATA_DIR/admin-token</code>). It stays in this tab only.</p>
            <form id="login-form"><input id="token" type="password" autocomplete="off"> <button>Show</button></form>
          </section>
          <div id="error"></div>
          <section><h2>Service graph <small class="empty">(requests per second, success rate and p99 over the last minute)</small></h2>
            <svg id="graph" role="img" aria-label="service graph" width="100%" height="120"></svg>
            <p id="graph-empty" class="empty" hidden>No requests seen yet: edges appear when sidecars send traffic.</p>
          </section>
          <section><h2>Proxies</h2><table id="proxies"></table></section>
          <section><h2>Rejected configuration</h2><div id="config"></div></section>
        </main>
        <script>
        "use strict";
        const TYPES = ["CDS", "LDS", "EDS", "RDS", "SDS"];
        const SVG = "http://www.w3.org/2000/svg";
        let token = null;
        const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
        if (fromFragment) { sessionStorage.setItem("trellis-token", fromFragment); history.replaceState(null, "", location.pathname); }
        token = sessionStorage.getItem("trellis-token");

        function el(name, attributes, text) {
          const node = name.startsWith("svg:") ? document.createElementNS(SVG, name.slice(4)) : document.createElement(name);
          for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
          if (text !== undefined) node.textContent = text;
          return node;
        }

        async function get(path) {
          const response = await fetch(path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
          if (response.status === 401) { sessionStorage.removeItem("trellis-token"); token = null; showLogin(); throw new Error("the admin token was refused"); }
          if (!response.ok) throw new Error(path + ": HTTP " + response.status);
          return response.json();
        }

        function percent(rate) { return rate === null || rate === undefined ? "–" : (rate * 100).toFixed(rate === 1 ? 0 : 1) + "%"; }
        function millis(value) { return value === null || value === undefined ? "–" : (value < 10 ? value.toFixed(1) : Math.round(value)) + " ms"; }

        function drawGraph(graph) {
          const svg = document.getElementById("graph");
          svg.replaceChildren();
          document.getElementById("graph-empty").hidden = graph.nodes.length > 0;
          const columns = { workload: graph.nodes.filter(n => n.kind === "workload"), service: graph.nodes.filter(n => n.kind === "service") };
          const rowHeight = 64, width = Math.max(svg.clientWidth || 900, 700), boxWidth = 260, boxHeight = 40;
          const height = Math.max(columns.workload.length, columns.service.length, 1) * rowHeight + 20;
          svg.setAttribute("height", height);
          const x = { workload: 20, service: width - boxWidth - 20 };
          const position = {};
          for (const kind of ["workload", "service"]) {
            columns[kind].forEach((node, index) => { position[node.id] = { x: x[kind], y: 10 + index * rowHeight }; });
          }
          graph.edges.forEach((edge, index) => {
            const from = position[edge.source], to = position[edge.destination];
            if (!from || !to) return;
            const hasErrors = edge.successRate !== null && edge.successRate !== undefined && edge.successRate < 1;
            const group = el("svg:g", {
              class: "edge" + (hasErrors ? " errors" : ""), "data-source": edge.source, "data-destination": edge.destination,
              "data-subset": edge.subset, "data-requests": edge.requests, "data-success-rate": edge.successRate ?? "" });
            const x1 = from.x + boxWidth, y1 = from.y + boxHeight / 2, x2 = to.x, y2 = to.y + boxHeight / 2, mid = (x1 + x2) / 2;
            group.append(el("svg:path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 8},${y2}`, "marker-end": "url(#arrow)" }));
            const label = `${edge.subset ? edge.subset + " · " : ""}${edge.requestsPerSecond.toFixed(2)} rps · ${percent(edge.successRate)} · p99 ${millis(edge.p99Milliseconds)}`;
            group.append(el("svg:text", { x: mid, y: (y1 + y2) / 2 - 6 + (index % 2) * 14, "text-anchor": "middle" }, label));
            svg.append(group);
          });
          const defs = el("svg:defs");
          const marker = el("svg:marker", { id: "arrow", viewBox: "0 0 10 10", refX: 0, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto" });
          marker.append(el("svg:path", { d: "M0,0 L10,5 L0,10 z", fill: "#495057" }));
          defs.append(marker);
          svg.prepend(defs);
          for (const node of graph.nodes) {
            const at = position[node.id];
            const group = el("svg:g", { class: "node " + node.kind, "data-id": node.id, transform: `translate(${at.x},${at.y})` });
            group.append(el("svg:rect", { width: boxWidth, height: boxHeight, rx: 6 }));
            const title = node.kind === "workload" ? `${node.name}.${node.namespace}` : node.name;
            group.append(el("svg:text", { x: 10, y: 17 }, title));
            group.append(el("svg:text", { x: 10, y: 32, fill: "#868e96" }, node.kind));
            svg.append(group);
          }
        }

        function drawProxies(data) {
          const table = document.getElementById("proxies");
          table.replaceChildren();
          const head = el("tr");
          for (const title of ["Proxy", "Kind", "Identity", "Connected since", ...TYPES, "Replica"]) head.append(el("th", {}, title));
          table.append(head);
          if (data.proxies.length === 0) { const row = el("tr"); row.append(el("td", { colspan: 10, class: "empty" }, "No proxy is connected.")); table.append(row); }
          for (const proxy of data.proxies) {
            const row = el("tr", { class: "proxy", "data-node": proxy.node });
            row.append(el("td", {}, proxy.node), el("td", {}, proxy.kind), el("td", {}, proxy.identity || "–"), el("td", {}, proxy.connectedSince));
            for (const type of TYPES) {
              const state = proxy.types[type] || { status: proxy.remote ? "–" : "NOT SENT" };
              const cell = el("td", { class: state.status.replace(" ", "-") }, state.status);
              if (state.nack) cell.title = state.nack;
              row.append(cell);
            }
            row.append(el("td", {}, proxy.replica || "–"));
            table.append(row);
          }
        }

        function drawConfig(status) {
          const box = document.getElementById("config");
          box.replaceChildren();
          const problems = [...(status.errors || [])];
          if (status.configDirectoryProblem) problems.unshift(status.configDirectoryProblem);
          for (const file of status.unreadableFiles || []) problems.push(JSON.stringify(file));
          if ((status.rejected || []).length === 0 && problems.length === 0) { box.append(el("p", { class: "empty" }, "Nothing rejected: every resource is served as written.")); return; }
          if ((status.rejected || []).length > 0) box.append(el("p", {}, "Rejected: " + status.rejected.join(", ") + ((status.keptLastGood || []).length ? " (keeping the last good version of " + status.keptLastGood.join(", ") + ")" : "")));
          for (const problem of problems) box.append(el("div", { class: "problem" }, problem));
        }

        function showLogin() { document.getElementById("login").hidden = false; }

        async function refresh() {
          if (!token) { showLogin(); return; }
          try {
            const [graph, proxies, status] = await Promise.all([get("/api/graph"), get("/api/proxies"), get("/api/config-status")]);
            drawGraph(graph); drawProxies(proxies); drawConfig(status);
            document.getElementById("error").textContent = "";
            document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
            document.body.dataset.loaded = "true";
          } catch (error) {
            document.getElementById("error").textContent = String(error.message || error);
          }
        }

        document.getElementById("login-form").addEventListener("submit", event => {
          event.preventDefault();
          token = document.getElementById("token").value.trim();
          sessionStorage.setItem("trellis-token", token);
          document.getElementById("login").hidden = true;
          refresh();
        });
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>

        """#
}
