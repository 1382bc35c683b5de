// The EWO's view: the caseload table (sortable, filterable by robot use,
// flags, a trend line per pupil) and a pupil's page (weekly chart, register
// grid beside the engagement grid, CSV export, a printable summary). The
// server checks every call and computes every figure; the page says them
// in its language (i18n.js), in English exactly as the CSV files do.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const I = window.seatlinkI18n;
  const t = I.t;
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const NO_FIGURE = '–'; // engagement.NoFigure
  // The caseload table's special columns (engagement.ColName and so on).
  const COL_NAME = 1, COL_FLAGS = 13, COL_PLAN = 14, COL_TREND = 19, COL_KEY_ADULT = 20;
  let me = null;
  let caseload = null;
  let sortCol = 5; // education engagement, year to date: lowest first
  let sortDir = 1;

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function rangeQuery() {
    const f = $('range');
    const q = new URLSearchParams();
    q.set('weeks', f.weeks.value);
    if (f.through.value) q.set('through', f.through.value);
    return q;
  }

  // The table's words, made here from the figures in the page's language;
  // in English they are the server's CSV text, cell for cell
  // (engagement.PctOf, HM, FlagText, dataText, planText, Cell).
  const num = (n) => I.number(n, { useGrouping: false });
  const pct1 = (p) => I.number(p, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
  function pctOf(p, of) {
    if (p === null || p === undefined) return NO_FIGURE;
    return t('ewo.cell.pct_of', { pct: pct1(p), n: num(of) });
  }
  function hm(min) {
    const sign = min < 0 ? '-' : '';
    const m = Math.abs(min);
    return sign + Math.floor(m / 60) + ':' + String(m % 60).padStart(2, '0');
  }
  const signedHM = (min) => (min > 0 ? '+' : '') + hm(min);
  // flags are a pupil's flags as [chip class, words]: the DfE's absence
  // flags, Seatlink's education flags, then a register gap.
  function flags(m, overdue) {
    const f = [];
    if (m.severe_absence) f.push(['severe', t('ewo.flag.severe')]);
    else if (m.persistent_absence) f.push(['persistent', t('ewo.flag.persistent')]);
    if (m.education_at_most_50) f.push(['education', t('ewo.flag.education_50')]);
    else if (m.education_at_most_90) f.push(['education', t('ewo.flag.education_90')]);
    if (overdue) f.push(['data', t('ewo.flag.overdue', { n: num(overdue) })]);
    return f;
  }
  const flagText = (f) => f.map((x) => x[1]).join('; ');
  function planText(pf) {
    if (!pf) return '';
    const out = [t('ewo.plan.active')];
    if (pf.review_overdue) out.push(t('ewo.plan.review_overdue'));
    else if (pf.review_due) out.push(t('ewo.plan.review_due'));
    if (pf.past_end) out.push(t('ewo.plan.past_end'));
    if (pf.missed_two_weeks) out.push(t('ewo.plan.missed_two_weeks'));
    return out.join('; ');
  }
  const lastWeekText = (w) => (w ? t('ewo.cell.last_week', { monday: w.monday, pct: pctOf(w.education_engagement_pct, w.known_sessions) }) : NO_FIGURE);
  const never = (u) => u.days_since_used === null || u.days_since_used === undefined;

  // columns are the caseload table's headings, naming each window by
  // its dates (engagement.Caseload.columns).
  function caseloadColumns(cl) {
    const vars = { through: cl.through, from: cl.from, prev_from: addDays(cl.from, -7 * cl.weeks.length), prev_to: addDays(cl.from, -1) };
    return COLUMN_KEYS.map((k) => t('ewo.col.' + k, vars));
  }
  const COLUMN_KEYS = ['pupil_number', 'name', 'school', 'class', 'attendance_year', 'education_year', 'attendance_term', 'education_term',
    'in_school', 'not_marked', 'learning', 'social', 'active', 'flags', 'plan', 'last_week', 'robot_time', 'change', 'days_since_used', 'trend',
    'key_adult'];

  // caseloadCells are a row's text, one per column (the CSV's row).
  function caseloadCells(r) {
    const y = r.year_to_date, tm = r.term_to_date, u = r.usage;
    return [r.pupil_number, r.display_name, r.school_name, r.classroom_name || '',
      pctOf(y.attendance_pct, y.marked_sessions), pctOf(y.education_engagement_pct, y.known_sessions),
      pctOf(tm.attendance_pct, tm.marked_sessions), pctOf(tm.education_engagement_pct, tm.known_sessions),
      num(y.on_site_sessions) + ' / ' + num(y.approved_activity_sessions), num(y.unmarked_sessions),
      hm(tm.learning_minutes), hm(tm.social_minutes), num(tm.active_minutes),
      flagText(flags(y, r.unmarked_overdue)), planText(r.plan), lastWeekText(r.last_week),
      hm(u.robot_minutes), signedHM(u.change_minutes), never(u) ? t('ewo.cell.never') : num(u.days_since_used),
      (r.education_trend || []).map((v) => (v === null || v === undefined ? NO_FIGURE : pct1(v))).join(' '),
      r.no_key_adult ? t('ewo.cell.no_key_adult') : r.key_adult || ''];
  }

  // flagChips draws flags as chips; its textContent is their text.
  function flagChips(f) {
    const span = C.el('span', null, { class: 'flags' });
    f.forEach(([cls, words], i) => {
      if (i > 0) span.appendChild(C.el('span', '; ', { class: 'sr' }));
      span.appendChild(C.el('span', words, { class: 'flag ' + cls }));
    });
    return span;
  }

  // sparkline draws weekly % as lines; a week with no figure (null: a
  // holiday, or nothing marked) is a gap, and a week alone between gaps
  // a dot. It is a picture of the text beside it, hidden from screen
  // readers, which read the text.
  function sparkline(edu, att) {
    const w = 120, h = 28;
    const s = svg('svg', { class: 'spark', viewBox: '0 0 ' + w + ' ' + h, 'aria-hidden': 'true', focusable: 'false' });
    const x = (i, n) => (n > 1 ? (i * (w - 4)) / (n - 1) + 2 : w / 2);
    const y = (v) => h - 2 - (v / 100) * (h - 4);
    const lines = (vals, cls) => {
      let pts = [];
      const flush = () => {
        if (pts.length) s.appendChild(svg('polyline', { class: cls, points: pts.map((p) => p.join(',')).join(' ') }));
        if (pts.length === 1) s.appendChild(svg('circle', { class: cls + ' dot', cx: pts[0][0], cy: pts[0][1], r: 1.8 }));
        pts = [];
      };
      vals.forEach((v, i) => {
        if (v === null || v === undefined) { flush(); return; }
        pts.push([x(i, vals.length).toFixed(1), y(v).toFixed(1)]);
      });
      flush();
    };
    lines(att, 'att');
    lines(edu, 'edu');
    return s;
  }

  // Sorting by the raw figures, not their text; no figure sorts last
  // either way. Each entry: [key for the heading, value of a row].
  const SORTS = [
    ['pupil_number', (r) => r.pupil_number],
    ['name', (r) => r.display_name.toLocaleLowerCase()],
    ['school', (r) => r.school_name],
    ['class', (r) => r.classroom_name || null],
    ['attendance_year', (r) => r.year_to_date.attendance_pct],
    ['education_year', (r) => r.year_to_date.education_engagement_pct],
    ['attendance_term', (r) => r.term_to_date.attendance_pct],
    ['education_term', (r) => r.term_to_date.education_engagement_pct],
    ['in_school', (r) => r.year_to_date.on_site_sessions],
    ['not_marked', (r) => r.year_to_date.unmarked_sessions],
    ['learning', (r) => r.term_to_date.learning_minutes],
    ['social', (r) => r.term_to_date.social_minutes],
    ['active', (r) => r.term_to_date.active_minutes],
    // Flags by weight: severe, persistent, the education flags, then gaps.
    ['flags', (r) => {
      const m = r.year_to_date;
      return (m.severe_absence ? 16 : m.persistent_absence ? 8 : 0) + (m.education_at_most_50 ? 4 : m.education_at_most_90 ? 2 : 0) +
        (r.unmarked_overdue > 0 ? 1 : 0);
    }],
    ['plan', (r) => planText(r.plan) || null],
    ['last_week', (r) => (r.last_week ? r.last_week.education_engagement_pct : null)],
    ['robot_time', (r) => r.usage.robot_minutes],
    ['change', (r) => r.usage.change_minutes],
    // Never used is longer ago than any number of days.
    ['days_since_used', (r) => (r.usage.days_since_used === null || r.usage.days_since_used === undefined ? Infinity : r.usage.days_since_used)],
    null, // the trend: a picture, not a figure
    // No key adult first (ascending), then by the key adult's name.
    ['key_adult', (r) => (r.no_key_adult ? '' : r.key_adult ? r.key_adult.toLocaleLowerCase() : null)],
  ];

  function compare(a, b) {
    const get = SORTS[sortCol][1];
    const x = get(a), y = get(b);
    const nx = x === null || x === undefined, ny = y === null || y === undefined;
    if (nx !== ny) return nx ? 1 : -1;
    if (!nx) {
      const d = typeof x === 'number' ? (x === y ? 0 : x < y ? -1 : 1) : String(x).localeCompare(String(y));
      if (d) return d * sortDir;
    }
    return a.pupil_number < b.pupil_number ? -1 : a.pupil_number > b.pupil_number ? 1 : 0;
  }

  // The usage filter: which rows the page shows (the CSV has them all).
  const FILTERS = {
    all: () => true,
    used: (r) => r.usage.robot_minutes > 0,
    idle14: (r) => r.usage.days_since_used === null || r.usage.days_since_used === undefined || r.usage.days_since_used >= 14,
    never: (r) => r.usage.days_since_used === null || r.usage.days_since_used === undefined,
  };

  // Columns shown: the pupil's number and name always; which others, the
  // EWO chooses (remembered on the device); the defaults fit the screen
  // (WCAG reflow): on a laptop the figures an EWO acts on, on a phone the
  // fewest. The CSV always has every column.
  const ALWAYS = new Set([0, 1]);
  const FIT = [
    [1700, null], // every column
    [1000, [4, 5, 6, 7, 13, 14, 16, 18, 19, 20]],
    [0, [5, 13, 18, 20]],
  ];
  const COLUMNS_KEY = 'seatlink.ewo.columns';
  let shownCols = null;
  function fitColumns() {
    const w = document.documentElement.clientWidth;
    const fit = FIT.find(([min]) => w >= min)[1];
    return new Set(fit ? [...ALWAYS, ...fit] : COLUMN_KEYS.map((_, i) => i));
  }
  function loadColumns() {
    try {
      const saved = JSON.parse(localStorage.getItem(COLUMNS_KEY));
      if (Array.isArray(saved)) return new Set([...ALWAYS, ...saved.map((k) => COLUMN_KEYS.indexOf(k)).filter((i) => i >= 0)]);
    } catch (e) { /* none saved */ }
    return fitColumns();
  }
  function saveColumns(remember) {
    try {
      if (remember) localStorage.setItem(COLUMNS_KEY, JSON.stringify([...shownCols].map((i) => COLUMN_KEYS[i])));
      else localStorage.removeItem(COLUMNS_KEY);
    } catch (e) { /* private browsing */ }
  }
  function drawColumnChoice(columns) {
    const box = $('column-choice');
    box.textContent = '';
    columns.forEach((text, i) => {
      if (ALWAYS.has(i)) return;
      const l = C.el('label', null, { class: 'check' });
      const cb = C.el('input', null, { type: 'checkbox', value: COLUMN_KEYS[i] });
      cb.checked = shownCols.has(i);
      cb.addEventListener('change', () => {
        if (cb.checked) shownCols.add(i); else shownCols.delete(i);
        saveColumns(true);
        applyColumns();
      });
      l.appendChild(cb);
      l.appendChild(document.createTextNode(' ' + text));
      box.appendChild(l);
    });
  }
  function applyColumns() {
    for (const tr of document.querySelectorAll('#caseload-table tr')) {
      Array.from(tr.children).forEach((c, i) => { c.hidden = !shownCols.has(i); });
    }
    for (const cb of document.querySelectorAll('#column-choice input')) cb.checked = shownCols.has(COLUMN_KEYS.indexOf(cb.value));
  }

  function drawHead(columns) {
    const tr = $('caseload-head');
    tr.textContent = '';
    columns.forEach((text, i) => {
      const th = C.el('th', null, { scope: 'col' });
      if (SORTS[i]) {
        th.dataset.key = SORTS[i][0];
        th.dataset.col = String(i);
        const b = C.el('button', text, { type: 'button', class: 'sort' });
        b.addEventListener('click', () => {
          if (sortCol === i) sortDir = -sortDir;
          else { sortCol = i; sortDir = 1; }
          drawRows();
        });
        th.appendChild(b);
      } else {
        th.textContent = text;
      }
      if (i === COL_NAME) th.classList.add('stick');
      tr.appendChild(th);
    });
  }

  // NUMERIC columns are right-aligned.
  const NUMERIC = new Set([4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 17, 18]);

  function caseloadRow(r) {
    const tr = document.createElement('tr');
    tr.dataset.pupil = r.pupil_id;
    caseloadCells(r).forEach((text, i) => {
      const td = document.createElement(i === COL_NAME ? 'th' : 'td');
      if (i === COL_NAME) {
        td.scope = 'row';
        td.className = 'stick';
        td.appendChild(C.el('a', text, { href: '#pupil=' + encodeURIComponent(r.pupil_id) }));
      } else if (i === COL_FLAGS) {
        td.appendChild(flagChips(flags(r.year_to_date, r.unmarked_overdue)));
      } else if (i === COL_PLAN && r.plan && text) {
        const a = C.el('a', text, { href: '/plan#' + encodeURIComponent(r.plan.plan_id) });
        if (text.includes(';')) a.classList.add('planflag');
        td.appendChild(a);
      } else if (i === COL_KEY_ADULT && r.no_key_adult) {
        td.appendChild(flagChips([['nokey', text]]));
      } else if (i === COL_TREND) {
        td.className = 'trend';
        td.title = $('caseload-head').children[i].textContent + ': ' + text;
        td.appendChild(sparkline(r.education_trend || [], r.attendance_trend || []));
        td.appendChild(C.el('span', text, { class: 'sr' }));
      } else {
        td.textContent = text;
        if (NUMERIC.has(i)) td.classList.add('num');
      }
      td.hidden = !shownCols.has(i);
      tr.appendChild(td);
    });
    return tr;
  }

  function drawRows() {
    const rows = caseload ? caseload.rows : [];
    const keep = FILTERS[$('usage-filter').value] || FILTERS.all;
    const shown = rows.filter(keep).sort(compare);
    for (const th of document.querySelectorAll('#caseload-head th[data-key]')) {
      th.setAttribute('aria-sort', Number(th.dataset.col) === sortCol ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    }
    const body = $('caseload-rows');
    body.textContent = '';
    for (const r of shown) body.appendChild(caseloadRow(r));
    applyColumns();
    $('caseload-empty').hidden = rows.length > 0;
    $('caseload-none').hidden = rows.length === 0 || shown.length > 0;
    $('caseload-count').textContent = rows.length ? t('ewo.caseload.count', { shown: num(shown.length), n: rows.length }) : '';
  }

  const longDate = (d) => I.date(d, { day: 'numeric', month: 'long', year: 'numeric' });

  // windowText says what "year to" and "term to" count from.
  function windowText(cl) {
    const one = (key) => {
      const v = new Set(cl.rows.map((r) => r[key]));
      return v.size === 1 ? [...v][0] : '';
    };
    const ys = one('year_start'), ts = one('term_start');
    return t('ewo.caseload.window', { through: longDate(cl.through), year_from: ys ? longDate(ys) : t('ewo.caseload.each_year'),
      term_from: ts ? longDate(ts) : t('ewo.caseload.each_term'), weeks: t('ewo.caseload.weeks', { n: cl.weeks.length }), from: longDate(cl.from) });
  }

  function groupShare(n, of, pct) {
    if (pct === null || pct === undefined) return NO_FIGURE;
    return t('ewo.group.share', { count: num(n), n: num(of), pct: pct1(pct) });
  }

  function drawGroups(cl) {
    $('groups-title').textContent = t('ewo.groups.title_to', { through: longDate(cl.through) });
    const body = $('group-rows');
    body.textContent = '';
    for (const g of cl.groups) {
      const label = g.level === 'caseload' ? t('ewo.group.caseload')
        : t(g.level === 'school' ? 'ewo.group.school' : 'ewo.group.class', { name: g.name || g.id });
      const m = g.measures;
      const tr = C.row([label, num(g.pupils), pctOf(m.absence_pct, m.marked_sessions),
        groupShare(g.persistent_pupils, g.pupils_counted, g.persistent_pupils_pct),
        groupShare(g.severe_pupils, g.pupils_counted, g.severe_pupils_pct),
        pctOf(m.education_engagement_pct, m.known_sessions), hm(m.learning_minutes), hm(m.social_minutes)]);
      tr.dataset.level = g.level;
      tr.children[0].classList.add('stick');
      for (const i of [1, 6, 7]) tr.children[i].classList.add('num');
      body.appendChild(tr);
    }
  }

  async function showCaseload() {
    $('pupil').hidden = true;
    const q = rangeQuery();
    const cl = await C.api('GET', '/api/v1/caseload?' + q);
    caseload = cl;
    q.set('format', 'csv');
    $('caseload-csv').href = '/api/v1/caseload?' + q;
    $('caseload-window').textContent = windowText(cl);
    const columns = caseloadColumns(cl);
    if (!shownCols) shownCols = loadColumns();
    drawHead(columns);
    drawColumnChoice(columns);
    drawRows();
    drawGroups(cl);
    $('caseload').hidden = false;
    C.say(t('ewo.caseload.loaded', { through: longDate(cl.through), from: longDate(cl.from) }));
  }

  // drawChart draws the weeks' bars at the chart's own width; a week
  // without a figure gets words, never a 0 bar.
  let chartWeeks = [];
  function drawChart(weeks) {
    chartWeeks = weeks;
    const s = $('week-chart');
    s.textContent = '';
    const W = Math.max(280, Math.round(s.getBoundingClientRect().width) || 640), H = 220, left = 30, bottom = 30, top = 10;
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const ph = H - bottom - top;
    const y = (v) => top + ph - (v / 100) * ph;
    for (const v of [0, 50, 90, 100]) {
      s.appendChild(svg('line', { class: v === 90 || v === 50 ? 'guide' : 'axis', x1: left, x2: W, y1: y(v), y2: y(v) }));
      s.appendChild(svg('text', { x: 2, y: y(v) + 4 }, num(v)));
    }
    const slot = (W - left) / Math.max(weeks.length, 1);
    const bw = Math.min(24, slot / 3);
    const every = Math.ceil(46 / slot); // label every week that has room
    weeks.forEach((w, i) => {
      const x = left + i * slot + slot / 2;
      if (i % every === 0) s.appendChild(svg('text', { x, y: H - 10, 'text-anchor': 'middle' }, I.date(w.monday, { day: 'numeric', month: 'numeric' })));
      const note = (text, at) => {
        const tx = svg('text', { class: 'note', x, y: y(at), 'text-anchor': 'middle' }, text);
        if (slot < 64) tx.setAttribute('transform', 'rotate(-90 ' + x + ' ' + y(at) + ')');
        s.appendChild(tx);
      };
      if (!w.possible_sessions) { note(t('ewo.chart.no_school'), 30); return; }
      const bar = (cls, v, dx, key, of) => {
        const r = svg('rect', { class: cls, x: x + dx, y: y(v), width: bw, height: Math.max(0, top + ph - y(v)) });
        r.appendChild(svg('title', {}, t(key, { monday: longDate(w.monday), pct: pctOf(v, of) })));
        s.appendChild(r);
      };
      if (w.attendance_pct === null) note(t('ewo.chart.not_marked'), 30);
      else bar('bar-att', w.attendance_pct, -bw - 1, 'ewo.chart.attendance', w.marked_sessions);
      if (w.education_engagement_pct !== null) bar('bar-edu', w.education_engagement_pct, 1, 'ewo.chart.education', w.known_sessions);
    });
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (!$('pupil').hidden) drawChart(chartWeeks); }, 150);
  });
  // Printing draws the chart at the page's width, and back after.
  window.addEventListener('beforeprint', () => { if (!$('pupil').hidden) drawChart(chartWeeks); });
  window.addEventListener('afterprint', () => { if (!$('pupil').hidden) drawChart(chartWeeks); });

  function addDays(day, n) {
    const d = new Date(day + 'T12:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // The grid's first columns are the week's figures; then Mon AM to Fri
  // PM, each session's text (engagement.GridColumns, SessionResult.Cell).
  const FIRST_SESSION = 9;
  const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
  function gridColumns() {
    const cols = ['week', 'not_marked', 'attendance', 'in_school', 'approved', 'education', 'learning', 'social', 'active'].map((k) => t('ewo.grid.' + k));
    for (const d of DAYS) for (const s of ['AM', 'PM']) cols.push(sessionName(d, s));
    return cols;
  }
  const sessionName = (d, s) => t('ewo.grid.session', { day: t('ewo.day.' + d), session: t(s === 'AM' ? 'ewo.session.am' : 'ewo.session.pm') });
  function sessionCell(s) {
    let c = s.code || t('ewo.cell.not_marked');
    if (s.learning_ns > 0 && s.scheduled_learning_ns > 0) {
      c = t(s.engaged_remote ? 'ewo.cell.robot_engaged' : 'ewo.cell.robot', { cell: c, pct: num(Math.floor((100 * s.learning_ns) / s.scheduled_learning_ns)) });
    }
    if (s.suggested_code) c = t('ewo.cell.suggest', { cell: c, code: s.suggested_code });
    return c;
  }
  function weekCells(w) {
    return [w.monday, num(w.unmarked_sessions), pctOf(w.attendance_pct, w.marked_sessions), num(w.on_site_sessions),
      num(w.approved_activity_sessions), pctOf(w.education_engagement_pct, w.known_sessions), hm(w.learning_minutes),
      hm(w.social_minutes), num(w.active_minutes)];
  }

  function drawGrid(weeks) {
    const head = $('grid-head');
    head.textContent = '';
    const htr = document.createElement('tr');
    gridColumns().forEach((c, i) => htr.appendChild(C.el('th', c, i === 0 ? { scope: 'col', class: 'stick' } : { scope: 'col' })));
    head.appendChild(htr);
    const body = $('grid-rows');
    body.textContent = '';
    for (const w of weeks) {
      const by = {};
      for (const s of w.sessions || []) by[s.day + ' ' + s.session] = s;
      const tr = document.createElement('tr');
      weekCells(w).forEach((text, i) => {
        const td = C.el(i === 0 ? 'th' : 'td', text, i === 0 ? { scope: 'row', class: 'stick' } : { class: 'num' });
        tr.appendChild(td);
      });
      for (let k = 0; k < 10; k++) {
        const day = addDays(w.monday, Math.floor(k / 2)), half = k % 2 ? 'PM' : 'AM';
        const s = by[day + ' ' + half];
        const text = s ? sessionCell(s) : '';
        const td = C.el('td', null, { class: 'cell' });
        if (s && canMark()) {
          const b = C.el('button', text, { type: 'button', class: 'mark',
            'aria-label': t('ewo.mark.label', { session: longDate(day) + ' ' + t(half === 'AM' ? 'ewo.session.am' : 'ewo.session.pm'), cell: text }) });
          b.addEventListener('click', () => openMark(s));
          td.appendChild(b);
        } else {
          td.textContent = text;
        }
        if (s) {
          td.classList.add(!s.possible ? 'np' : !s.marked ? 'unmarked' : s.present ? 'present' : s.engaged_remote ? 'engaged' : 'absent');
          td.dataset.session = s.day + ' ' + s.session;
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  // The register page: staff who may enter marks choose a session's cell.
  const canMark = () => me && (me.role === 'admin' || me.role === 'teacher');
  let codes = null;
  let pupilID = '';
  const sessionWords = (day, half) => longDate(day) + ' ' + t(half === 'AM' ? 'ewo.session.am' : 'ewo.session.pm');

  async function openMark(s) {
    if (!codes) codes = await C.api('GET', '/api/v1/attendance-codes');
    const f = $('mark-form');
    const when = sessionWords(s.day, s.session);
    $('mark-session').textContent = s.suggested_code ? t('ewo.mark.suggests', { session: when, code: s.suggested_code }) : when;
    const sel = f.code;
    sel.textContent = '';
    for (const c of codes) sel.appendChild(C.el('option', c.code + ': ' + c.meaning, { value: c.code }));
    sel.value = s.code || s.suggested_code || (s.session === 'AM' ? '/' : '\\');
    f.day.value = s.day;
    f.session.value = s.session;
    f.hidden = false;
    sel.focus();
  }

  async function saveMark(ev) {
    ev.preventDefault();
    const f = ev.target;
    try {
      await C.api('POST', '/api/v1/pupils/' + encodeURIComponent(pupilID) + '/marks',
        { day: f.day.value, session: f.session.value, code: f.code.value });
      f.hidden = true;
      await showPupil(pupilID);
      C.say(t('ewo.mark.saved', { session: sessionWords(f.day.value, f.session.value), code: f.code.value }));
    } catch (e) { C.say(e.message, true); }
  }

  // summary is the pupil's figures, in the caseload's words; it is also
  // the printed one-page summary.
  function summary(h) {
    const tm = h.term_to_date, y = h.year_to_date, u = h.usage;
    const notMarked = h.unmarked_overdue > 0 ? t('ewo.summary.overdue', { n: num(y.unmarked_sessions), overdue: num(h.unmarked_overdue) })
      : num(y.unmarked_sessions);
    const since = never(u) ? t('ewo.cell.never')
      : u.last_used ? t('ewo.summary.days_last', { n: u.days_since_used, last: longDate(u.last_used) }) : t('ewo.summary.days', { n: u.days_since_used });
    return [
      ['attendance-term', t('ewo.summary.attendance_term'), pctOf(tm.attendance_pct, tm.marked_sessions)],
      ['attendance-year', t('ewo.summary.attendance_year'), pctOf(y.attendance_pct, y.marked_sessions)],
      ['education-term', t('ewo.summary.education_term'), pctOf(tm.education_engagement_pct, tm.known_sessions)],
      ['education-year', t('ewo.summary.education_year'), pctOf(y.education_engagement_pct, y.known_sessions)],
      ['in-school', t('ewo.summary.in_school'), t('ewo.summary.sessions', { n: y.on_site_sessions })],
      ['approved', t('ewo.summary.approved'), t('ewo.summary.sessions', { n: y.approved_activity_sessions })],
      ['not-marked', t('ewo.summary.not_marked'), notMarked],
      ['learning', t('ewo.summary.learning'), hm(tm.learning_minutes)],
      ['social', t('ewo.summary.social'), hm(tm.social_minutes)],
      ['active', t('ewo.summary.active'), num(tm.active_minutes)],
      ['robot', t('ewo.summary.robot', { from: longDate(u.from), to: longDate(h.through) }),
        t('ewo.summary.robot_change', { time: hm(u.robot_minutes), change: signedHM(u.change_minutes) })],
      ['since', t('ewo.summary.since'), since],
      ['last-week', t('ewo.summary.last_week'), lastWeekText(h.last_week)],
      ['flags', t('ewo.summary.flags'), flags(y, h.unmarked_overdue)],
    ];
  }

  async function showPupil(id) {
    pupilID = id;
    $('caseload').hidden = true;
    const q = rangeQuery();
    const h = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(id) + '/history?' + q);
    const p = h.pupil;
    $('pupil-name').textContent = t('ewo.pupil.name', { name: p.display_name, number: p.pupil_number });
    $('pupil-meta').textContent = t('ewo.pupil.meta', { year: num(p.year_group), through: longDate(h.through),
      term: h.term || t('ewo.pupil.term'), term_start: h.term_start ? longDate(h.term_start) : NO_FIGURE,
      year_start: h.year_start ? longDate(h.year_start) : NO_FIGURE });
    $('pupil-plans').href = '/plan?pupil=' + encodeURIComponent(p.id);
    const dl = $('pupil-summary');
    dl.textContent = '';
    for (const [key, k, v] of summary(h)) {
      const d = C.el('div', null, { 'data-key': key });
      d.appendChild(C.el('dt', k));
      const dd = C.el('dd');
      if (key === 'flags') {
        if (v.length) dd.appendChild(flagChips(v)); else dd.textContent = t('ewo.summary.no_flags');
        d.className = 'wide';
      } else {
        dd.textContent = v;
      }
      d.appendChild(dd);
      dl.appendChild(d);
    }
    await Promise.all([showCasework(id), support.show(id)]);
    $('pupil').hidden = false; // the chart is drawn at its shown width
    document.body.classList.toggle('weeks-many', h.weeks.length > 8);
    drawChart(h.weeks);
    drawGrid(h.weeks);
    q.set('format', 'csv');
    $('pupil-csv').href = '/api/v1/pupils/' + encodeURIComponent(id) + '/history?' + q;
    $('printed').textContent = t('ewo.pupil.printed', { when: I.date(new Date(), { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit',
      minute: '2-digit' }), name: me.name });
    C.say(t('ewo.pupil.loaded', { through: longDate(h.through) }));
  }

  // The people around the pupil (casework.js), never printed: the key
  // adult, and a form to name one for staff who may (the server lists
  // whom they may choose); the pupil's check-ins for their key adult
  // alone (the server answers others 404: nothing is shown); the thread
  // with the family for those who may read it.
  const CW = window.seatlinkCasework;
  // Barriers, support and contacts (support.js), for staff who may see
  // the pupil's case; its standing part is on the printed summary.
  const support = window.seatlinkSupport.staffPanel();
  async function showCasework(id) {
    let unread = 0;
    const [k, cands, checkins, thread] = await Promise.all([
      CW.keyAdult(id).catch(() => undefined),
      C.api('GET', '/api/v1/pupils/' + encodeURIComponent(id) + '/key-adult/candidates').catch(() => null),
      CW.checkIns(id, 2).catch(() => null),
      CW.thread(id, { level: 2, onRead: (n) => { unread = n; } }).catch(() => null),
    ]);
    const box = $('key-adult');
    box.textContent = '';
    if (k !== undefined) box.appendChild(CW.keyAdultCard(k, false));
    $('key-adult-panel').hidden = k === undefined;
    const edit = $('key-adult-edit');
    edit.hidden = !cands || !cands.length;
    if (cands && cands.length) {
      const f = $('key-adult-form');
      const sel = f.staff_id;
      sel.textContent = '';
      if (!k) sel.appendChild(C.el('option', t('casework.key_adult.choose'), { value: '' }));
      for (const c of cands) {
        const role = I.has('common.role.' + c.role) ? t('common.role.' + c.role) : c.role;
        const o = C.el('option', t(c.school ? 'casework.candidate_at' : 'casework.candidate', { name: c.name, role, school: c.school || '' }),
          { value: c.staff_id });
        if (c.current) o.selected = true;
        sel.appendChild(o);
      }
      f.contact.value = k ? k.contact || '' : '';
      edit.open = !k;
    }
    const ci = $('checkins-panel');
    ci.textContent = '';
    if (checkins) ci.appendChild(checkins);
    ci.hidden = !checkins;
    const th = $('thread-panel');
    th.textContent = '';
    if (thread) th.appendChild(thread);
    th.hidden = !thread;
    // The thread is under the register; a button beside the key adult
    // goes there (a link's #address would be read as a route).
    const jump = $('thread-jump');
    jump.hidden = !thread;
    if (thread) {
      jump.textContent = unread ? t('casework.thread.jump_new', { n: unread }) : t('casework.thread.jump');
      jump.classList.toggle('has-new', unread > 0);
    }
  }

  async function saveKeyAdult(ev) {
    ev.preventDefault();
    const f = ev.target;
    const said = $('key-adult-status');
    if (!f.staff_id.value) {
      C.result(said, t('casework.key_adult.pick'), true);
      return;
    }
    try {
      const k = await C.api('PUT', '/api/v1/pupils/' + encodeURIComponent(pupilID) + '/key-adult',
        { staff_id: f.staff_id.value, contact: f.contact.value });
      // Who is the key adult decides what else this page may show.
      await showCasework(pupilID);
      $('key-adult-edit').open = false;
      C.result(said, t('casework.key_adult.saved', { name: k.name }));
    } catch (e) { C.result(said, C.problem(e), true); }
  }

  async function route() {
    try {
      const m = location.hash.match(/^#pupil=(.+)$/);
      if (m) await showPupil(decodeURIComponent(m[1]));
      else await showCaseload();
    } catch (e) { C.say(e.message, true); }
  }

  $('usage-filter').addEventListener('change', drawRows);
  $('columns-all').addEventListener('click', () => {
    shownCols = new Set(COLUMN_KEYS.map((_, i) => i));
    saveColumns(true);
    applyColumns();
  });
  $('columns-fit').addEventListener('click', () => {
    shownCols = fitColumns();
    saveColumns(false);
    applyColumns();
  });
  $('range').addEventListener('submit', (ev) => { ev.preventDefault(); route(); });
  $('back').addEventListener('click', (ev) => { ev.preventDefault(); location.hash = ''; });
  $('print').addEventListener('click', () => window.print());
  $('mark-form').addEventListener('submit', saveMark);
  $('key-adult-form').addEventListener('submit', saveKeyAdult);
  $('thread-jump').addEventListener('click', () => {
    const h = document.querySelector('#thread-panel h2');
    if (!h) return;
    h.setAttribute('tabindex', '-1');
    h.focus();
    h.scrollIntoView({ block: 'start' });
  });
  $('mark-cancel').addEventListener('click', () => { $('mark-form').hidden = true; });
  window.addEventListener('hashchange', route);
  // A report cannot end after today (the server refuses it too).
  const now = new Date();
  $('range').through.max = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  // A shared link keeps its range.
  const q = new URLSearchParams(location.search);
  const weeks = q.get('weeks');
  if (weeks && /^\d{1,2}$/.test(weeks)) {
    const sel = $('range').weeks;
    if (!Array.from(sel.options).some((o) => o.value === weeks)) sel.appendChild(C.el('option', weeks));
    sel.value = weeks;
  }
  if (q.get('through')) $('range').through.value = q.get('through');

  C.staffPage(async (who) => {
    me = who;
    $('range').hidden = false;
    await route();
  });
})();
