// Tollgate live call graph: plain browser script, no build step. Data arrives over server-sent events
// (/ui/events) as {aggregate, tasks, budgets}; one task's tree is fetched from /ui/tasks?id=.
// Drawing and layout are cytoscape's (its layered "breadthfirst" layout). window.__tollgate exposes what is
// drawn (ids and classes) so tests and curious operators can inspect it.
(function () {
  'use strict';

  const token = new URLSearchParams(location.search).get('token');
  const withToken = (url) => (token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);
  const $ = (id) => document.getElementById(id);

  const RED = '#d62828';
  const style = [
    {
      selector: 'node',
      style: {
        shape: 'round-rectangle',
        width: 'label',
        height: 'label',
        padding: '10px',
        'background-color': '#e8eefc',
        'border-width': 2,
        'border-color': '#3a5ba0',
        label: 'data(label)',
        'text-wrap': 'wrap',
        'text-valign': 'center',
        'font-size': 12,
        color: '#1d2433',
      },
    },
    { selector: 'node.cycle', style: { 'border-color': RED, 'background-color': '#fdeaea' } },
    { selector: 'node.initiator', style: { 'border-color': '#c78a00', 'background-color': '#fff4d6', 'border-width': 3 } },
    { selector: 'node.refused', style: { 'border-color': RED, 'border-style': 'dashed', 'background-color': '#fff' } },
    {
      selector: 'edge',
      style: {
        width: 'data(width)',
        'line-color': '#7d8aa6',
        'target-arrow-color': '#7d8aa6',
        'target-arrow-shape': 'triangle',
        'curve-style': 'bezier',
        'control-point-step-size': 70,
        label: 'data(label)',
        'font-size': 10,
        color: '#4a5366',
        'text-background-color': '#fff',
        'text-background-opacity': 0.85,
        'text-background-padding': '2px',
        'text-rotation': 'autorotate',
      },
    },
    { selector: 'edge.cycle', style: { 'line-color': RED, 'target-arrow-color': RED } },
    { selector: 'edge.refused', style: { 'line-color': RED, 'target-arrow-color': RED, 'line-style': 'dashed' } },
    { selector: 'edge.loop-cut', style: { width: 4, 'line-style': 'dashed', 'target-arrow-shape': 'tee', color: RED, 'font-weight': 'bold' } },
  ];
  const layered = (roots) => ({
    name: 'breadthfirst',
    directed: true,
    roots: roots && roots.length ? roots : undefined,
    spacingFactor: 1.15,
    padding: 24,
    animate: false,
  });
  // the same layers, left to right (a call tree is deeper than wide; the task panel is wide)
  const layeredLeftToRight = (roots) => ({ ...layered(roots), spacingFactor: 1, transform: (node, p) => ({ x: p.y * 2.6, y: p.x * 0.7 }) });

  // maxZoom also caps how far fit() blows up a small graph
  const graph = cytoscape({ container: $('graph'), style, minZoom: 0.2, maxZoom: 1.6, wheelSensitivity: 0.3 });
  const taskGraph = cytoscape({ container: $('task-graph'), style, minZoom: 0.2, maxZoom: 1.2, wheelSensitivity: 0.3 });

  const state = { snapshots: 0, last: null, selectedTask: null, userPicked: false, drawnTask: null };

  // Replace the elements of `cy` with `wanted` ([{group, data, classes}]), keeping positions of those that
  // stay; re-run the layout only when an element came or went (so the picture does not jump on every update).
  function sync(cy, wanted, layout) {
    const ids = new Set(wanted.map((e) => e.data.id));
    let changed = false;
    cy.batch(() => {
      cy.elements().forEach((el) => {
        if (!ids.has(el.id())) {
          el.remove();
          changed = true;
        }
      });
      for (const e of wanted.filter((w) => w.group === 'nodes').concat(wanted.filter((w) => w.group === 'edges'))) {
        const el = cy.getElementById(e.data.id);
        if (el.empty()) {
          cy.add(e);
          changed = true;
        } else {
          el.data(e.data);
          el.classes(e.classes);
        }
      }
    });
    if (changed) {
      cy.layout(layout).run();
      cy.fit(undefined, 24);
    }
  }

  // whole numbers as they are; small fractions (rates, cost) with two significant decimals
  const fmt = (n) => (Number.isInteger(n) || n >= 10 ? String(Math.round(n)) : n.toFixed(n >= 1 ? 1 : 2));
  const rateText = (r) => (r >= 10 ? String(Math.round(r)) : r === 0 ? '0' : String(Number(r.toPrecision(2))));
  // window counts are sliding-window estimates (fractional): shown as whole calls
  const count = (n) => String(Math.round(n));

  function drawAggregate(agg, budgets) {
    const perMinute = new Map((Array.isArray(budgets) ? budgets : []).map((b) => [b.id, b.callsPerMinute]));
    const seconds = Math.max(1, agg.windowMs / 1000);
    const maxRate = Math.max(1e-9, ...agg.edges.map((e) => e.calls / seconds));
    const incoming = new Set(agg.edges.map((e) => e.to));
    const wanted = [];
    for (const n of agg.nodes) {
      const b = perMinute.get(n.id);
      const badge = b && b.limit !== null ? `\n${count(b.used)}/${b.limit} per min` : '';
      wanted.push({ group: 'nodes', data: { id: n.id, name: n.name, label: n.name + badge }, classes: n.onCycle ? 'cycle' : '' });
    }
    for (const e of agg.edges) {
      const rate = e.calls / seconds;
      const classes = [e.onCycle && 'cycle', e.refusals > 0 && 'refused', e.errors > 0 && 'errors'].filter(Boolean).join(' ');
      const label =
        `${e.calls} call${e.calls === 1 ? '' : 's'} · ${rateText(rate)}/s` +
        (e.refusals ? ` · ${e.refusals} refused` : '') +
        (e.errors ? ` · ${e.errors} errors` : '');
      wanted.push({
        group: 'edges',
        data: {
          id: `${e.from} -> ${e.to}`,
          source: e.from,
          target: e.to,
          rate,
          calls: e.calls,
          refusals: e.refusals,
          width: Math.max(e.refusals ? 3 : 0, 1.5 + 7 * Math.sqrt(rate / maxRate)),
          label,
        },
        classes,
      });
    }
    // wide spacing: edge labels sit on the edges and must not hide short ones
    sync(graph, wanted, { ...layered(agg.nodes.filter((n) => !incoming.has(n.id)).map((n) => n.id)), spacingFactor: 1.7 });
    $('window').textContent =
      `last ${fmt(seconds / 60)} min · ${agg.cycles.length} cycle${agg.cycles.length === 1 ? '' : 's'}` +
      (agg.cycles.length ? `: ${agg.cycles.map((c) => c.names.join(' → ')).join('; ')}` : '');
  }

  function drawBudgets(budgets) {
    const box = $('budgets');
    if (!Array.isArray(budgets) || budgets.length === 0) {
      box.innerHTML = '<div class="empty">no per-agent limits or use yet</div>';
      return;
    }
    // used / limit; red from 80 % of the limit
    const cell = (u, show) => {
      const hot = u.limit !== null && u.used >= 0.8 * u.limit;
      return `<td class="${hot ? 'hot' : ''}">${show(u.used)}${u.limit === null ? '' : ` / ${u.limit}`}</td>`;
    };
    const rows = budgets.map(
      (b) =>
        `<tr data-agent="${esc(b.agent)}"><td>${esc(b.agent)}</td>${cell(b.callsPerMinute, count)}${cell(b.callsPerHour, count)}${cell(b.callsPerDay, count)}${cell(b.costPerDay, fmt)}</tr>`,
    );
    const unit = state.last ? esc(state.last.aggregate.costUnit) : '';
    box.innerHTML = `<table><thead><tr><th>agent</th><th>calls/min</th><th>calls/h</th><th>calls/day</th><th>cost/day ${unit}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  function drawTaskList(tasks) {
    const list = $('tasks');
    $('tasks-empty').style.display = tasks.length ? 'none' : '';
    list.replaceChildren(
      ...tasks.map((t) => {
        const li = document.createElement('li');
        li.dataset.taskId = t.rootTaskId;
        li.dataset.loops = String(t.loops);
        if (t.rootTaskId === state.selectedTask) li.className = 'selected';
        const time = new Date(t.startedAt).toLocaleTimeString();
        li.innerHTML =
          `<b>${esc(t.initiator.name)}</b> · ${t.calls} call${t.calls === 1 ? '' : 's'}` +
          (t.refused ? ` · ${t.refused} refused` : '') +
          (t.loops ? ` · <span class="loop">loop cut</span>` : '') +
          (t.cancelled ? ' · cancelled' : '') +
          `<br><span class="id">${esc(t.rootTaskId)}</span> · ${time}`;
        li.addEventListener('click', () => {
          state.userPicked = true;
          showTask(t.rootTaskId);
        });
        return li;
      }),
    );
  }

  async function showTask(id) {
    state.selectedTask = id;
    for (const li of $('tasks').children) li.classList.toggle('selected', li.dataset.taskId === id);
    const res = await fetch(withToken(`/ui/tasks?id=${encodeURIComponent(id)}`));
    if (state.selectedTask !== id) return; // another task was picked meanwhile
    if (!res.ok) {
      $('task-info').textContent = `task ${id}: ${res.status} ${(await res.json().catch(() => ({}))).error || ''}`;
      sync(taskGraph, [], layered());
      state.drawnTask = null;
      return;
    }
    drawTask(await res.json());
  }

  function drawTask(t) {
    const cuts = new Map(t.loops.map((l) => [l.callId, l]));
    const inTree = new Set(t.calls.map((c) => c.id));
    const wanted = [{ group: 'nodes', data: { id: 'initiator', label: `initiator\n${t.initiator.name}` }, classes: 'initiator' }];
    for (const c of t.calls) {
      const refused = c.decision === 'refused';
      wanted.push({
        group: 'nodes',
        data: { id: `call:${c.id}`, label: c.calleeName + (refused ? `\n✕ ${c.reason}` : '') },
        classes: refused ? 'refused' : '',
      });
      const cut = cuts.get(c.id);
      const classes = [refused && 'refused', cut && 'loop-cut'].filter(Boolean).join(' ');
      const label = cut ? `loop cut (${c.status ?? 508})` : `${c.method}${c.status !== null ? ` · ${c.status}` : ''}`;
      const source = c.parent !== null && inTree.has(c.parent) ? `call:${c.parent}` : 'initiator';
      wanted.push({ group: 'edges', data: { id: `edge:${c.id}`, source, target: `call:${c.id}`, width: 2, label }, classes });
    }
    sync(taskGraph, wanted, layeredLeftToRight(['initiator']));
    state.drawnTask = { id: t.rootTaskId, calls: t.totals.calls, refused: t.totals.refused };
    $('task-title').textContent = t.rootTaskId;
    const loops = t.loops.map((l) => `<span class="loop">loop cut: ${esc(l.fromName)} → ${esc(l.toName)} closed ${esc(l.cycleNames.join(' → '))}</span>`);
    $('task-info').innerHTML =
      `initiator <b>${esc(t.initiator.name)}</b> · ${t.totals.calls} ${t.totals.calls === 1 ? 'call' : 'calls'} · ${t.totals.refused} refused · cost ${fmt(t.totals.cost)} ${esc(t.costUnit)}` +
      (loops.length ? `<br>${loops.join('<br>')}` : '');
  }

  function onSnapshot(s) {
    state.snapshots++;
    state.last = s;
    drawAggregate(s.aggregate, s.budgets);
    drawBudgets(s.budgets);
    drawTaskList(s.tasks);
    // first run: show the most recent task that hit a loop (else the most recent one) until the user picks one
    if (!state.userPicked && s.tasks.length) {
      const pick = (s.tasks.find((t) => t.loops > 0) || s.tasks[0]).rootTaskId;
      if (pick !== state.selectedTask) return void showTask(pick);
    }
    // the shown task grew: fetch it again
    const sel = s.tasks.find((t) => t.rootTaskId === state.selectedTask);
    if (sel && state.drawnTask && state.drawnTask.id === sel.rootTaskId && (sel.calls !== state.drawnTask.calls || sel.refused !== state.drawnTask.refused))
      showTask(sel.rootTaskId);
  }

  const events = new EventSource(withToken('/ui/events'));
  events.onopen = () => {
    $('status').className = 'live';
    $('status').textContent = 'live';
  };
  events.onerror = () => {
    $('status').className = 'down';
    $('status').textContent = 'disconnected, retrying…';
  };
  events.onmessage = (ev) => {
    $('fault').style.display = 'none';
    onSnapshot(JSON.parse(ev.data));
    $('status').textContent = `live · updated ${new Date().toLocaleTimeString()}`;
  };
  events.addEventListener('fault', (ev) => {
    $('fault').style.display = 'block';
    $('fault').textContent = JSON.parse(ev.data).message;
  });

  const describe = (cy, group) =>
    cy.elements(group).map((el) => ({
      id: el.id(),
      classes: el.classes(),
      label: el.data('label'),
      source: el.data('source'),
      target: el.data('target'),
      width: el.data('width'),
      rate: el.data('rate'),
    }));
  window.__tollgate = {
    state,
    graph,
    taskGraph,
    nodes: () => describe(graph, 'node'),
    edges: () => describe(graph, 'edge'),
    taskNodes: () => describe(taskGraph, 'node'),
    taskEdges: () => describe(taskGraph, 'edge'),
    showTask: (id) => {
      state.userPicked = true;
      return showTask(id);
    },
  };
})();
