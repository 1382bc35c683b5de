// The EWO's view: the caseload table (sortable, filterable by robot use,
// flags, a trend line per pupil) and a pupil's page (weekly chart, register
// grid beside the engagement grid, CSV export, a printable summary). The
// server checks every call and computes every figure, and writes the
// tables' text (cells, the same as its CSV files); this page only draws
// them.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const NO_FIGURE = '–'; // engagement.NoFigure
  // The caseload table's special columns (engagement.ColName and so on).
  const COL_NAME = 1, COL_FLAGS = 13, COL_PLAN = 14, COL_TREND = 19;
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

  // The server's words, mirrored where the JSON has no text of its own
  // (engagement.PctOf, HM, signedHM, FlagText, dataText).
  function pctOf(p, of) {
    if (p === null || p === undefined) return NO_FIGURE;
    return p.toFixed(1) + ' % of ' + of + (of === 1 ? ' session' : ' sessions');
  }
  function hm(min) {
    const sign = min < 0 ? '-' : '';
    const m = Math.abs(min);
    return sign + Math.floor(m / 60) + ':' + String(m % 60).padStart(2, '0');
  }
  const signedHM = (min) => (min > 0 ? '+' : '') + hm(min);
  function flagText(m) {
    const f = [];
    if (m.severe_absence) f.push('severe absence');
    else if (m.persistent_absence) f.push('persistent absence');
    if (m.education_at_most_50) f.push('education engagement 50 % or less');
    else if (m.education_at_most_90) f.push('education engagement 90 % or less');
    return f.join('; ');
  }
  function dataText(overdue) {
    if (!overdue) return '';
    return overdue === 1 ? '1 session not marked after two school days' : overdue + ' sessions not marked after two school days';
  }
  function pupilFlags(m, overdue) {
    return [flagText(m), dataText(overdue)].filter((s) => s).join('; ');
  }
  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many);

  // flagChips draws a flags text ("severe absence; education engagement
  // 50 % or less; ...") as chips; its textContent is the text itself.
  function flagChips(text) {
    const span = C.el('span', null, { class: 'flags' });
    if (!text) return span;
    text.split('; ').forEach((part, i) => {
      if (i > 0) span.appendChild(C.el('span', '; ', { class: 'sr' }));
      const cls = part.startsWith('severe') ? 'severe' : part.startsWith('persistent') ? 'persistent'
        : part.startsWith('education') ? 'education' : 'data';
      span.appendChild(C.el('span', part, { class: 'flag ' + cls }));
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
    ['plan', (r) => r.cells[COL_PLAN] || null],
    ['last_week', (r) => (r.last_week ? r.last_week.education_engagement_pct : null)],
    ['robot_time', (r) => r.usage.robot_minutes],
    ['change', (r) => r.usage.change_minutes],
    // Never used is longer ago than any number of days.
    ['days_since_used', (r) => (r.usage.days_since_used === null || r.usage.days_since_used === undefined ? Infinity : r.usage.days_since_used)],
    null, // the trend: a picture, not a figure
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
    r.cells.forEach((text, i) => {
      const td = document.createElement(i === COL_NAME ? 'th' : 'td');
      if (i === COL_NAME) {
        td.scope = 'row';
        td.className = 'stick';
        td.appendChild(C.el('a', text, { href: '#pupil=' + encodeURIComponent(r.pupil_id) }));
      } else if (i === COL_FLAGS) {
        td.appendChild(flagChips(text));
      } else if (i === COL_PLAN && r.plan && text) {
        const a = C.el('a', text, { href: '/plan#' + encodeURIComponent(r.plan.plan_id) });
        if (text.includes(';')) a.classList.add('planflag');
        td.appendChild(a);
      } else if (i === COL_TREND) {
        td.className = 'trend';
        td.title = $('caseload-head').children[i].textContent + ': ' + text;
        td.appendChild(sparkline(r.education_trend || [], r.attendance_trend || []));
        td.appendChild(C.el('span', text, { class: 'sr' }));
      } else {
        td.textContent = text;
        if (NUMERIC.has(i)) td.classList.add('num');
      }
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
    $('caseload-empty').hidden = rows.length > 0;
    $('caseload-none').hidden = rows.length === 0 || shown.length > 0;
    $('caseload-count').textContent = rows.length ? 'Showing ' + shown.length + ' of ' + plural(rows.length, 'pupil', 'pupils') + '.' : '';
  }

  // windowText says what "year to" and "term to" count from.
  function windowText(cl) {
    const one = (key) => {
      const v = new Set(cl.rows.map((r) => r[key]));
      return v.size === 1 ? [...v][0] : '';
    };
    const ys = one('year_start'), ts = one('term_start');
    return 'Up to and including ' + cl.through + ' · “year to” columns: year to date, from ' + (ys || 'each school\'s start of year') +
      ' · “term to” columns: term to date, from ' + (ts || 'each school\'s start of term') + ' · robot time and trend: the ' +
      plural(cl.weeks.length, 'week', 'weeks') + ' from ' + cl.from + '.';
  }

  function groupShare(n, of, pct) {
    if (pct === null || pct === undefined) return NO_FIGURE;
    return n + ' of ' + plural(of, 'pupil', 'pupils') + ' (' + pct.toFixed(1) + ' %)';
  }

  function drawGroups(cl) {
    $('groups-title').textContent = 'Classes, schools and the whole caseload, year to ' + cl.through;
    const body = $('group-rows');
    body.textContent = '';
    for (const g of cl.groups) {
      const label = g.level === 'caseload' ? 'Whole caseload' : (g.level === 'school' ? 'School: ' : 'Class: ') + (g.name || g.id);
      const m = g.measures;
      const tr = C.row([label, g.pupils, pctOf(m.absence_pct, m.marked_sessions),
        groupShare(g.persistent_pupils, g.pupils_counted, g.persistent_pupils_pct),
        groupShare(g.severe_pupils, g.pupils_counted, g.severe_pupils_pct),
        pctOf(m.education_engagement_pct, m.known_sessions), hm(m.learning_minutes), hm(m.social_minutes)]);
      tr.dataset.level = g.level;
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
    drawHead(cl.columns);
    drawRows();
    drawGroups(cl);
    $('caseload').hidden = false;
    C.say('Sessions up to ' + cl.through + '; weeks from ' + cl.from + '.');
  }

  // drawChart draws the weeks' bars at the chart's own width; a week
  // without a figure gets words, never a 0 bar.
  let chartWeeks = [];
  function drawChart(weeks) {
    chartWeeks = weeks;
    const s = $('week-chart');
    s.textContent = '';
    const W = Math.max(300, Math.round(s.getBoundingClientRect().width) || 640), H = 220, left = 30, bottom = 30, top = 10;
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const ph = H - bottom - top;
    const y = (v) => top + ph - (v / 100) * ph;
    for (const v of [0, 50, 90, 100]) {
      s.appendChild(svg('line', { class: v === 90 || v === 50 ? 'guide' : 'axis', x1: left, x2: W, y1: y(v), y2: y(v) }));
      s.appendChild(svg('text', { x: 2, y: y(v) + 4 }, String(v)));
    }
    const slot = (W - left) / Math.max(weeks.length, 1);
    const bw = Math.min(24, slot / 3);
    const every = Math.ceil(46 / slot); // label every week that has room
    weeks.forEach((w, i) => {
      const x = left + i * slot + slot / 2;
      if (i % every === 0) s.appendChild(svg('text', { x, y: H - 10, 'text-anchor': 'middle' }, w.monday.slice(5)));
      const note = (text, at) => {
        const t = svg('text', { class: 'note', x, y: y(at), 'text-anchor': 'middle' }, text);
        if (slot < 64) t.setAttribute('transform', 'rotate(-90 ' + x + ' ' + y(at) + ')');
        s.appendChild(t);
      };
      if (!w.possible_sessions) { note('no school', 30); return; }
      const bar = (cls, v, dx, label, of) => {
        const r = svg('rect', { class: cls, x: x + dx, y: y(v), width: bw, height: Math.max(0, top + ph - y(v)) });
        r.appendChild(svg('title', {}, label + ', week of ' + w.monday + ': ' + pctOf(v, of)));
        s.appendChild(r);
      };
      if (w.attendance_pct === null) note('not marked', 30);
      else bar('bar-att', w.attendance_pct, -bw - 1, 'Attendance', w.marked_sessions);
      if (w.education_engagement_pct !== null) bar('bar-edu', w.education_engagement_pct, 1, 'Education engagement', w.known_sessions);
    });
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (!$('pupil').hidden) drawChart(chartWeeks); }, 150);
  });

  function addDays(day, n) {
    const d = new Date(day + 'T12:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // The grid's first columns are the week's figures; then Mon AM to Fri
  // PM, each session's text (engagement.SessionResult.Cell).
  const FIRST_SESSION = 9;

  function drawGrid(columns, weeks) {
    const head = $('grid-head');
    head.textContent = '';
    const htr = document.createElement('tr');
    for (const c of columns) htr.appendChild(C.el('th', c, { scope: 'col' }));
    head.appendChild(htr);
    const body = $('grid-rows');
    body.textContent = '';
    for (const w of weeks) {
      const by = {};
      for (const s of w.sessions || []) by[s.day + ' ' + s.session] = s;
      const tr = document.createElement('tr');
      w.cells.forEach((text, i) => {
        if (i < FIRST_SESSION) {
          const td = C.el(i === 0 ? 'th' : 'td', text, i === 0 ? { scope: 'row' } : {});
          if (i > 0) td.className = 'num';
          tr.appendChild(td);
          return;
        }
        const k = i - FIRST_SESSION;
        const s = by[addDays(w.monday, Math.floor(k / 2)) + ' ' + (k % 2 ? 'PM' : 'AM')];
        const td = C.el('td', null, { class: 'cell' });
        if (s && canMark()) {
          const b = C.el('button', text, { type: 'button', class: 'mark', 'aria-label': 'Mark ' + s.day + ' ' + s.session + ': ' + text });
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
      });
      body.appendChild(tr);
    }
  }

  // The register page: staff who may enter marks choose a session's cell.
  const canMark = () => me && (me.role === 'admin' || me.role === 'teacher');
  let codes = null;
  let pupilID = '';

  async function openMark(s) {
    if (!codes) codes = await C.api('GET', '/api/v1/attendance-codes');
    const f = $('mark-form');
    $('mark-session').textContent = s.day + ' ' + s.session + (s.suggested_code ? ' (the school suggests ' + s.suggested_code + ')' : '');
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
      C.say('Mark saved: ' + f.day.value + ' ' + f.session.value + ' ' + f.code.value + '.');
    } catch (e) { C.say(e.message, true); }
  }

  // summary is the pupil's figures, in the caseload's words; it is also
  // the printed one-page summary.
  function summary(h) {
    const t = h.term_to_date, y = h.year_to_date, u = h.usage;
    let notMarked = String(y.unmarked_sessions);
    if (h.unmarked_overdue > 0) notMarked += ' (' + h.unmarked_overdue + ' overdue)';
    const last = h.last_week ? 'w/c ' + h.last_week.monday + ': ' + pctOf(h.last_week.education_engagement_pct, h.last_week.known_sessions) : NO_FIGURE;
    const since = u.days_since_used === null || u.days_since_used === undefined ? 'never'
      : plural(u.days_since_used, 'day', 'days') + (u.last_used ? ' (last used ' + u.last_used + ')' : '');
    return [
      ['attendance-term', 'Attendance, term to date', pctOf(t.attendance_pct, t.marked_sessions)],
      ['attendance-year', 'Attendance, year to date', pctOf(y.attendance_pct, y.marked_sessions)],
      ['education-term', 'Education engagement, term to date', pctOf(t.education_engagement_pct, t.known_sessions)],
      ['education-year', 'Education engagement, year to date', pctOf(y.education_engagement_pct, y.known_sessions)],
      ['in-school', 'In school, year to date', plural(y.on_site_sessions, 'session', 'sessions')],
      ['approved', 'Approved activity, year to date', plural(y.approved_activity_sessions, 'session', 'sessions')],
      ['not-marked', 'Not marked, year to date', notMarked],
      ['learning', 'Learning h:mm, term to date', hm(t.learning_minutes)],
      ['social', 'Social h:mm, term to date', hm(t.social_minutes)],
      ['active', 'Active minutes, term to date', String(t.active_minutes)],
      ['robot', 'Robot time h:mm, ' + u.from + ' to ' + h.through, hm(u.robot_minutes) + ' (' + signedHM(u.change_minutes) + ' against the period before)'],
      ['since', 'Days since robot used', since],
      ['last-week', 'Last complete week', last],
      ['flags', 'Flags, year to date', pupilFlags(y, h.unmarked_overdue)],
    ];
  }

  async function showPupil(id) {
    pupilID = id;
    $('caseload').hidden = true;
    const q = rangeQuery();
    const h = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(id) + '/history?' + q);
    const p = h.pupil;
    $('pupil-name').textContent = p.display_name + ' (' + p.pupil_number + ')';
    $('pupil-meta').textContent = 'Year ' + p.year_group + ' · sessions up to ' + h.through + ' · ' + (h.term || 'term') +
      ' term from ' + (h.term_start || NO_FIGURE) + ' · school year from ' + (h.year_start || NO_FIGURE);
    $('pupil-plans').href = '/plan?pupil=' + encodeURIComponent(p.id);
    const dl = $('pupil-summary');
    dl.textContent = '';
    for (const [key, k, v] of summary(h)) {
      const d = C.el('div', null, { 'data-key': key });
      d.appendChild(C.el('dt', k));
      const dd = C.el('dd');
      if (key === 'flags') {
        if (v) dd.appendChild(flagChips(v)); else dd.textContent = 'none';
        d.className = 'wide';
      } else {
        dd.textContent = v;
      }
      d.appendChild(dd);
      dl.appendChild(d);
    }
    $('pupil').hidden = false; // the chart is drawn at its shown width
    drawChart(h.weeks);
    drawGrid(h.columns || [], h.weeks);
    q.set('format', 'csv');
    $('pupil-csv').href = '/api/v1/pupils/' + encodeURIComponent(id) + '/history?' + q;
    $('printed').textContent = 'Printed ' + new Date().toLocaleString() + ' by ' + me.name + '. Confidential: for the review meeting.';
    C.say('Sessions up to ' + h.through + '.');
  }

  async function route() {
    try {
      const m = location.hash.match(/^#pupil=(.+)$/);
      if (m) await showPupil(decodeURIComponent(m[1]));
      else await showCaseload();
    } catch (e) { C.say(e.message, true); }
  }

  $('usage-filter').addEventListener('change', drawRows);
  $('range').addEventListener('submit', (ev) => { ev.preventDefault(); route(); });
  $('back').addEventListener('click', (ev) => { ev.preventDefault(); location.hash = ''; });
  $('print').addEventListener('click', () => window.print());
  $('mark-form').addEventListener('submit', saveMark);
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
