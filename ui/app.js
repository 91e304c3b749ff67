// Tollgate live call graph: plain browser script, no build step. Data arrives over server-sent events
// (/ui/events) as {aggregate, tasks, budgets}; one task's tree is fetched from /ui/tasks?id=, an agent's or an
// edge's details from /graph/agents/<id> and /graph/edges?from=&to=, a range shorter than the window from
// /graph?range=. Drawing and layout are cytoscape's (its layered "breadthfirst" layout). window.__tollgate
// exposes what is drawn (ids, classes, labels) so tests and curious operators can inspect it.
(function () {
  'use strict';

  const token = new URLSearchParams(location.search).get('token');
  const withToken = (url) => (token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);
  const $ = (id) => document.getElementById(id);

  const RED = '#d62828';
  const ORANGE = '#e07000';
  const AMBER = '#c78a00';
  const GREY = '#7d8aa6';
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
    // health: the share of calls to the agent that failed, or of its own attempts that were refused
    { selector: 'node.health-warn', style: { 'border-color': AMBER, 'background-color': '#fdf3dc' } },
    { selector: 'node.health-bad', style: { 'border-color': RED, 'background-color': '#fde3e3', 'border-width': 3 } },
    { selector: 'node.cycle', style: { 'border-color': RED, 'border-style': 'double', 'border-width': 4 } },
    { selector: 'node:selected', style: { 'overlay-color': '#3a5ba0', 'overlay-opacity': 0.12, 'overlay-padding': 6 } },
    { selector: 'node.initiator', style: { 'border-color': '#c78a00', 'background-color': '#fff4d6', 'border-width': 3 } },
    { selector: 'node.refused', style: { 'border-color': RED, 'border-style': 'dashed', 'background-color': '#fff' } },
    { selector: 'node.failed', style: { 'border-color': ORANGE, 'border-style': 'dashed', 'background-color': '#fff4e8' } },
    {
      selector: 'edge',
      style: {
        width: 'data(width)',
        'line-color': GREY,
        'target-arrow-color': GREY,
        'target-arrow-shape': 'triangle',
        'curve-style': 'bezier',
        'control-point-step-size': 80,
        label: 'data(label)',
        'text-wrap': 'wrap',
        'font-size': 10,
        color: '#4a5366',
        'text-background-color': '#fff',
        'text-background-opacity': 0.92,
        'text-background-padding': '2px',
        'text-background-shape': 'round-rectangle',
      },
    },
    { selector: 'edge.health-warn', style: { 'line-color': AMBER, 'target-arrow-color': AMBER, color: '#7a5600' } },
    { selector: 'edge.failing', style: { 'line-color': ORANGE, 'target-arrow-color': ORANGE, color: '#9a4d00' } },
    { selector: 'edge.health-bad', style: { 'line-color': RED, 'target-arrow-color': RED, color: RED } },
    { selector: 'edge.health-bad.failing', style: { 'line-color': ORANGE, 'target-arrow-color': ORANGE, color: '#9a4d00' } },
    { selector: 'edge.refused', style: { 'line-style': 'dashed' } },
    { selector: 'edge.mostly-refused', style: { 'line-color': RED, 'target-arrow-color': RED, 'line-style': 'dashed', color: RED } },
    { selector: 'edge.cycle', style: { 'line-color': RED, 'target-arrow-color': RED } },
    { selector: 'edge:selected', style: { 'overlay-color': '#3a5ba0', 'overlay-opacity': 0.15, 'overlay-padding': 4 } },
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
  const layeredLeftToRight = (roots) => ({ ...layered(roots), spacingFactor: 1, transform: (node, p) => ({ x: p.y * 2.8, y: p.x * 0.7 }) });

  // maxZoom also caps how far fit() blows up a small graph
  const graph = cytoscape({ container: $('graph'), style, minZoom: 0.2, maxZoom: 1.6, wheelSensitivity: 0.3, selectionType: 'single' });
  const taskGraph = cytoscape({ container: $('task-graph'), style, minZoom: 0.2, maxZoom: 1.2, wheelSensitivity: 0.3, autounselectify: true });

  const state = {
    snapshots: 0,
    last: null,
    /** the aggregate drawn: the snapshot's, or /graph?range= when a shorter range is picked */
    drawn: null,
    rangeMs: null,
    selectedTask: null,
    userPicked: false,
    drawnTask: null,
    /** {kind: 'agent', id} or {kind: 'edge', from, to} */
    selected: null,
    detail: null,
    details: 0,
  };

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
      // laid out from the unzoomed view: breadthfirst spreads over the current view (cy.extent()), which grows
      // each time fit() zoomed out, so without the reset a tree drawn after a big one came out tiny
      cy.viewport({ zoom: 1, pan: { x: 0, y: 0 } });
      cy.layout(layout).run();
      // room for the edge labels at the border
      cy.fit(undefined, 36);
    }
  }

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many || `${one}s`}`;
  // whole numbers as they are; small fractions with two significant decimals
  const fmt = (n) => (Number.isInteger(n) || n >= 10 ? String(Math.round(n)) : n.toFixed(n >= 1 ? 1 : 2));
  // a rate people read at a glance: per second from 1/s, else per minute ("12/min", "0.4/min")
  function rateText(perSecond) {
    if (perSecond >= 1) return `${perSecond >= 10 ? Math.round(perSecond) : Number(perSecond.toFixed(1))}/s`;
    const perMinute = perSecond * 60;
    if (perMinute === 0) return '0/min';
    return `${perMinute >= 10 ? Math.round(perMinute) : Number(perMinute.toPrecision(perMinute >= 1 ? 2 : 1))}/min`;
  }
  const ms = (v) => (v === null || v === undefined ? '–' : v >= 100 ? `${Math.round(v)} ms` : `${Number(v.toPrecision(2))} ms`);
  const pct = (r) => (r === 0 ? '0%' : r < 0.01 ? '<1%' : `${Math.round(r * 100)}%`);
  // window counts are sliding-window estimates (fractional): shown as whole calls
  const count = (n) => String(Math.round(n));
  const rangeMsOf = (agg) => agg.rangeMs || agg.windowMs;
  // "loop 2, no_rule 1"
  const reasons = (m) =>
    Object.entries(m || {})
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');

  function drawAggregate(agg, budgets) {
    state.drawn = agg;
    const perMinute = new Map((Array.isArray(budgets) ? budgets : []).map((b) => [b.id, b.callsPerMinute]));
    const seconds = Math.max(1, rangeMsOf(agg) / 1000);
    const attempts = (e) => e.calls + e.refusals;
    const maxRate = Math.max(1e-9, ...agg.edges.map((e) => attempts(e) / seconds));
    const incoming = new Set(agg.edges.map((e) => e.to));
    const wanted = [];
    for (const n of agg.nodes) {
      const b = perMinute.get(n.id);
      const badge = b && b.limit !== null ? `\n${count(b.used)}/${b.limit} per min` : '';
      const health = n.health || 'ok';
      const trouble =
        n.health && n.health !== 'ok'
          ? `\n${[n.errorRate > 0 && `${pct(n.errorRate)} failed`, n.refusalRate > 0 && `${pct(n.refusalRate)} refused`].filter(Boolean).join(' · ')}`
          : '';
      wanted.push({
        group: 'nodes',
        data: { id: n.id, name: n.name, label: n.name + badge + trouble, health },
        classes: [n.onCycle && 'cycle', `health-${health}`].filter(Boolean).join(' '),
      });
    }
    for (const e of agg.edges) {
      const rate = e.calls / seconds;
      const mostlyRefused = e.refusals > 0 && e.refusals >= e.calls;
      const classes = [
        e.onCycle && 'cycle',
        e.refusals > 0 && 'refused',
        mostlyRefused && 'mostly-refused',
        e.errors > 0 && 'errors',
        e.errors > 0 && e.health && e.health !== 'ok' && 'failing',
        e.health && `health-${e.health}`,
      ]
        .filter(Boolean)
        .join(' ');
      // an edge whose calls were all refused says only that (no "0 calls · 0/min")
      const lines = e.calls > 0 || e.refusals === 0 ? [`${plural(e.calls, 'call')} · ${rateText(rate)}`] : [];
      if (e.refusals) lines.push(`${e.refusals} refused${e.refusalsByReason ? ` (${reasons(e.refusalsByReason)})` : ''}`);
      if (e.errors) lines.push(`${e.errors} failed${e.errorsByKind ? ` (${reasons(e.errorsByKind)})` : ''}`);
      wanted.push({
        group: 'edges',
        data: {
          id: `${e.from} -> ${e.to}`,
          source: e.from,
          target: e.to,
          rate,
          calls: e.calls,
          refusals: e.refusals,
          errors: e.errors,
          // thickness follows attempts, so an edge whose calls are all refused is not drawn as a hairline
          width: 1.5 + 7 * Math.sqrt(attempts(e) / seconds / maxRate),
          label: lines.join('\n'),
        },
        classes,
      });
    }
    // wide spacing: edge labels sit on the edges and must not hide short ones
    sync(graph, wanted, { ...layered(agg.nodes.filter((n) => !incoming.has(n.id)).map((n) => n.id)), spacingFactor: 1.8 });
    drawHeader(agg);
  }

  // live cycles (every edge forwarded calls) and cut loops (refused at the first revisit) are different things
  function drawHeader(agg) {
    const cycles = agg.cycles.length;
    const cut = agg.loopsCut || 0;
    const parts = [`last ${fmt(rangeMsOf(agg) / 60000)} min`];
    if (cycles) parts.push(`<span class="cycle">${plural(cycles, 'live cycle')}: ${esc(agg.cycles.map((c) => c.names.join(' → ')).join('; '))}</span>`);
    else parts.push('no live cycle');
    if (cut) parts.push(`<span class="loop">${plural(cut, 'loop')} cut</span>`);
    $('window').innerHTML = parts.join(' · ');
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

  function drawTaskList(tasks, at) {
    const since = state.rangeMs ? at - state.rangeMs : -Infinity;
    const shown = tasks.filter((t) => t.startedAt >= since);
    $('tasks-range').textContent = state.rangeMs ? `started in the last ${fmt(state.rangeMs / 60000)} min` : '';
    const list = $('tasks');
    $('tasks-empty').style.display = shown.length ? 'none' : '';
    list.replaceChildren(
      ...shown.map((t) => {
        const li = document.createElement('li');
        li.dataset.taskId = t.rootTaskId;
        li.dataset.loops = String(t.loops);
        if (t.rootTaskId === state.selectedTask) li.className = 'selected';
        const time = new Date(t.startedAt).toLocaleTimeString();
        li.innerHTML =
          `<b>${esc(t.initiator.name)}</b> · ${plural(t.calls, 'call')}` +
          (t.refused ? ` · <span class="refused">${t.refused} refused</span>` : '') +
          (t.errors ? ` · <span class="failed">${t.errors} failed</span>` : '') +
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
      const why = (await res.json().catch(() => ({}))).error || res.statusText;
      $('task-title').textContent = id;
      $('task-info').innerHTML = `<span class="refused">${esc(why)}</span> (only the last graph.recentTasks root tasks are kept)`;
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
    let failed = 0;
    for (const c of t.calls) {
      const refused = c.decision === 'refused';
      // an upstream failure: the status the caller got and why (older servers: status 0, no outcome)
      const failure = !refused && (c.outcome === 'error' || c.status === 0);
      if (failure) failed++;
      const why = refused ? `\n✕ ${c.reason}` : failure ? `\n⚠ ${c.status || ''} ${c.error || 'failed'}`.replace('  ', ' ') : '';
      wanted.push({
        group: 'nodes',
        data: { id: `call:${c.id}`, label: c.calleeName + why, message: c.message },
        classes: refused ? 'refused' : failure ? 'failed' : '',
      });
      const cut = cuts.get(c.id);
      const classes = [refused && 'refused', cut && 'loop-cut', failure && 'failing'].filter(Boolean).join(' ');
      const label = cut
        ? `loop cut (${c.status ?? 508})`
        : `${c.method}${c.status !== null ? ` · ${c.status}` : ' · in flight'}${failure && c.error ? ` ${c.error}` : refused ? ` ${c.reason}` : ''}`;
      const source = c.parent !== null && inTree.has(c.parent) ? `call:${c.parent}` : 'initiator';
      wanted.push({ group: 'edges', data: { id: `edge:${c.id}`, source, target: `call:${c.id}`, width: 2, label }, classes });
    }
    sync(taskGraph, wanted, layeredLeftToRight(['initiator']));
    state.drawnTask = { id: t.rootTaskId, calls: t.totals.calls, refused: t.totals.refused };
    $('task-title').textContent = t.rootTaskId;
    const loops = t.loops.map((l) => `<span class="loop">loop cut: ${esc(l.fromName)} → ${esc(l.toName)} closed ${esc(l.cycleNames.join(' → '))}</span>`);
    const failures = t.calls
      .filter((c) => c.decision !== 'refused' && (c.outcome === 'error' || c.status === 0))
      .map(
        (c) =>
          `<span class="failed">failed: ${esc(c.callerName)} → ${esc(c.calleeName)} ${c.status ?? ''}${c.error ? ` ${esc(c.error)}` : ''}: ${esc(c.message || '')}</span>`,
      );
    $('task-info').innerHTML =
      `initiator <b>${esc(t.initiator.name)}</b> · ${plural(t.totals.calls, 'call')} · ${t.totals.refused} refused` +
      (failed ? ` · ${failed} failed` : '') +
      ` · cost ${fmt(t.totals.cost)} ${esc(t.costUnit)}` +
      (loops.length || failures.length ? `<br>${loops.concat(failures).join('<br>')}` : '');
  }

  // ---- details of a clicked agent or edge ----

  function detailUrl(sel) {
    const range = state.rangeMs ? `range=${state.rangeMs}` : '';
    if (sel.kind === 'agent') return `/graph/agents/${encodeURIComponent(sel.id)}${range ? `?${range}` : ''}`;
    return `/graph/edges?from=${encodeURIComponent(sel.from)}&to=${encodeURIComponent(sel.to)}${range ? `&${range}` : ''}`;
  }

  let detailInFlight = false;
  async function loadDetail() {
    const sel = state.selected;
    if (!sel || detailInFlight) return;
    detailInFlight = true;
    try {
      const res = await fetch(withToken(detailUrl(sel)));
      if (state.selected !== sel) return;
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        $('detail').innerHTML = `<div class="hint">${esc(body.error || res.statusText)}</div>`;
        return;
      }
      state.detail = body;
      state.details++;
      drawDetail(body);
    } finally {
      detailInFlight = false;
    }
  }

  function statsBlock(title, s) {
    const rows = [
      ['calls', `${fmt(s.calls)} · ${rateText(s.callsPerSecond)}`],
      ['failed', `${fmt(s.errors)} (${pct(s.errorRate)})`],
      ['refused', `${fmt(s.refusals)} (${pct(s.refusalRate)})`],
      ['latency p50 / p99', `${ms(s.latencyP50Ms)} / ${ms(s.latencyP99Ms)}`],
      ['max', ms(s.latencyMaxMs)],
    ];
    const why = [];
    if (s.refusals) why.push(`<div class="why" data-k="refusals-by-reason"><b>refused:</b> ${esc(reasons(s.refusalsByReason))}</div>`);
    if (s.errors) why.push(`<div class="why" data-k="errors-by-kind"><b>failed:</b> ${esc(reasons(s.errorsByKind))}</div>`);
    return (
      `<h3>${esc(title)}<span class="health ${esc(s.health)}">${esc(s.health)}</span></h3>` +
      `<table data-block="${esc(title)}"><tbody>${rows.map(([k, v]) => `<tr data-k="${esc(k)}"><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>` +
      why.join('')
    );
  }

  function drawDetail(d) {
    const title = d.kind === 'agent' ? `agent ${d.agent.name}` : `${d.from.name} → ${d.to.name}`;
    $('detail-title').textContent = `${title} · last ${fmt(d.rangeMs / 60000)} min`;
    const blocks =
      d.kind === 'agent'
        ? statsBlock(`calls to ${d.agent.name}`, d.in) +
          (d.out.calls + d.out.refusals > 0
            ? statsBlock(`calls by ${d.agent.name}`, d.out)
            : `<div class="why">${esc(d.agent.name)} made no calls in this range</div>`)
        : statsBlock(`${d.from.name} → ${d.to.name}`, d.edge);
    const recent = d.recentCalls.length
      ? `<table id="detail-recent"><thead><tr><th>time</th><th>call</th><th>status</th><th>ms</th></tr></thead><tbody>${d.recentCalls
          .map((c) => {
            const cls = c.outcome === 'refused' ? 'refused' : c.outcome === 'error' ? 'failed' : '';
            const what = c.outcome === 'refused' ? ` ${c.reason}` : c.outcome === 'error' ? ` ${c.reason || 'failed'}` : '';
            return (
              `<tr data-outcome="${esc(c.outcome)}"${c.rootTaskId ? ` data-task-id="${esc(c.rootTaskId)}"` : ''} title="${esc(c.message || '')}">` +
              `<td>${new Date(c.at).toLocaleTimeString()}</td><td>${esc(c.callerName)} → ${esc(c.calleeName)} ${esc(c.method)}</td>` +
              `<td class="${cls}">${c.status ?? '…'}${esc(what)}</td><td>${c.durationMs === null ? '' : Math.round(c.durationMs)}</td></tr>`
            );
          })
          .join('')}</tbody></table>`
      : '<div class="hint">no recent calls recorded in this range</div>';
    $('detail').innerHTML = `${blocks}<h3>Recent calls</h3>${recent}`;
    for (const tr of $('detail').querySelectorAll('tr[data-task-id]')) {
      tr.addEventListener('click', () => {
        state.userPicked = true;
        showTask(tr.dataset.taskId);
      });
    }
  }

  function select(sel) {
    state.selected = sel;
    state.detail = null;
    if (!sel) {
      $('detail-title').textContent = 'click an agent or an edge';
      return;
    }
    $('detail').innerHTML = '<div class="hint">loading…</div>';
    loadDetail();
  }

  graph.on('tap', 'node', (ev) => select({ kind: 'agent', id: ev.target.id() }));
  graph.on('tap', 'edge', (ev) => select({ kind: 'edge', from: ev.target.data('source'), to: ev.target.data('target') }));

  // ---- range and search ----

  function fillRanges(windowMs) {
    const box = $('range');
    if (box.dataset.windowMs === String(windowMs)) return;
    box.dataset.windowMs = String(windowMs);
    const choices = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000].filter((r) => r < windowMs);
    box.innerHTML =
      choices.map((r) => `<option value="${r}">last ${fmt(r / 60000)} min</option>`).join('') +
      `<option value="">window (${fmt(windowMs / 60000)} min)</option>`;
    box.value = state.rangeMs && state.rangeMs < windowMs ? String(state.rangeMs) : '';
  }

  $('range').addEventListener('change', () => {
    state.rangeMs = Number($('range').value) || null;
    refresh();
  });

  $('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $('task-search').value.trim();
    if (!id) return;
    state.userPicked = true;
    showTask(id);
  });

  // ---- snapshots ----

  let rangedInFlight = false;
  async function drawRanged() {
    if (rangedInFlight) return;
    rangedInFlight = true;
    try {
      const res = await fetch(withToken(`/graph?range=${state.rangeMs}`));
      if (res.ok && state.rangeMs) drawAggregate(await res.json(), state.last && state.last.budgets);
    } finally {
      rangedInFlight = false;
    }
  }

  function refresh() {
    const s = state.last;
    if (!s) return;
    if (state.rangeMs) drawRanged();
    else drawAggregate(s.aggregate, s.budgets);
    drawTaskList(s.tasks, s.aggregate.at);
    if (state.selected) loadDetail();
  }

  function onSnapshot(s) {
    state.snapshots++;
    state.last = s;
    // the page around the canvases may have moved (a panel grew): cytoscape re-reads where they are
    graph.resize();
    taskGraph.resize();
    fillRanges(s.aggregate.windowMs);
    refresh();
    drawBudgets(s.budgets);
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
      // the colour actually drawn (what the eye sees)
      color: group === 'edge' ? el.style('line-color') : el.style('border-color'),
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
    /** where an element is drawn, in page pixels (for tests that click it like a person) */
    position: (id) => {
      const el = graph.getElementById(id);
      const p = el.isNode() ? el.renderedPosition() : el.renderedMidpoint();
      const box = $('graph').getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    },
    /** labels that reach outside the canvas (clipped), as ids */
    clipped: () => {
      const w = $('graph').clientWidth;
      const h = $('graph').clientHeight;
      return graph
        .elements()
        .filter((el) => {
          const b = el.renderedBoundingBox({ includeLabels: true });
          return b.x1 < 0 || b.y1 < 0 || b.x2 > w || b.y2 > h;
        })
        .map((el) => el.id());
    },
  };
})();
