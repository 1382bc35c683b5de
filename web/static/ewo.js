// The EWO's view: the caseload table (sortable, flags, a trend line per
// pupil) and a pupil's page (weekly chart, register grid beside the
// engagement grid, CSV export, a printable summary). The server checks
// every call and computes every figure; this page only draws them.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  let me = null;
  let rows = [];
  let sortKey = 'education_pct';
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

  function fmt(n, d) { return Number(n || 0).toFixed(d); }

  function flagChips(m) {
    const span = C.el('span');
    const add = (cls, text) => span.appendChild(C.el('span', text, { class: 'flag ' + cls }));
    if (m.severe_absence_attendance) add('severe', 'Severe (attendance)');
    else if (m.persistent_absence_attendance) add('persistent', 'Persistent (attendance)');
    if (m.severe_absence_education) add('severe', 'Severe (education)');
    else if (m.persistent_absence_education) add('persistent', 'Persistent (education)');
    return span;
  }

  function flagText(m) {
    return Array.from(flagChips(m).childNodes).map((n) => n.textContent).join('; ');
  }

  // sparkline draws weekly % as lines; a holiday week (null) is a gap.
  function sparkline(edu, att) {
    const w = 120, h = 28;
    const s = svg('svg', { class: 'spark', viewBox: '0 0 ' + w + ' ' + h, role: 'img' });
    const x = (i, n) => (n > 1 ? (i * (w - 4)) / (n - 1) + 2 : w / 2);
    const lines = (vals, cls) => {
      let pts = [];
      const flush = () => {
        if (pts.length) s.appendChild(svg('polyline', { class: cls, points: pts.join(' ') }));
        pts = [];
      };
      vals.forEach((v, i) => {
        if (v === null) { flush(); return; }
        pts.push(x(i, vals.length).toFixed(1) + ',' + (h - 2 - (v / 100) * (h - 4)).toFixed(1));
      });
      flush();
    };
    s.appendChild(svg('title', {}, 'Education engagement by week: ' +
      edu.map((v) => (v === null ? 'holiday' : fmt(v, 0) + '%')).join(', ')));
    lines(att, 'att');
    lines(edu, 'edu');
    return s;
  }

  // planCell mirrors engagement.planText (the CSV's words), linking to the plan.
  function planCell(r) {
    const f = r.plan;
    if (!f) return '';
    const words = ['active plan'];
    if (f.review_overdue) words.push('review overdue');
    else if (f.review_due) words.push('review due');
    if (f.past_end) words.push('past its end date');
    if (f.missed_two_weeks) words.push('targets missed two weeks running');
    const a = C.el('a', words.join('; '), { href: '/plan#' + encodeURIComponent(f.plan_id) });
    if (words.length > 1) a.classList.add('planflag');
    return a;
  }

  function sortValue(r, key) {
    const m = r.term_to_date;
    switch (key) {
      case 'attendance_pct': return m.attendance_pct;
      case 'remote_pct': return m.remote_engagement_pct;
      case 'education_pct': return m.education_engagement_pct;
      case 'learning_hours': return m.learning_hours;
      case 'social_hours': return m.social_hours;
      case 'active_minutes': return m.active_minutes;
      case 'last_week': return r.last_week.education_engagement_pct;
      case 'flags': return flagText(m);
      case 'plan': { const c = planCell(r); return c ? c.textContent : ''; }
      default: return r[key] || '';
    }
  }

  function drawCaseload() {
    const sorted = rows.slice().sort((a, b) => {
      const x = sortValue(a, sortKey), y = sortValue(b, sortKey);
      if (x < y) return -sortDir;
      if (x > y) return sortDir;
      return a.pupil_number < b.pupil_number ? -1 : 1;
    });
    for (const th of document.querySelectorAll('#caseload-table th[data-key]')) {
      th.setAttribute('aria-sort', th.dataset.key === sortKey ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    }
    const body = $('caseload-rows');
    body.textContent = '';
    for (const r of sorted) {
      const m = r.term_to_date;
      const a = C.el('a', r.display_name, { href: '#pupil=' + encodeURIComponent(r.pupil_id) });
      const tr = C.row([r.pupil_number, a, r.school_name, r.classroom_name || '', fmt(m.attendance_pct, 1),
        fmt(m.remote_engagement_pct, 1), fmt(m.education_engagement_pct, 1), fmt(m.learning_hours, 2),
        fmt(m.social_hours, 2), m.active_minutes, flagChips(m), planCell(r), fmt(r.last_week.education_engagement_pct, 1),
        sparkline(r.education_trend || [], r.attendance_trend || [])]);
      tr.dataset.pupil = r.pupil_id;
      for (const i of [4, 5, 6, 7, 8, 9, 12]) tr.children[i].classList.add('num');
      body.appendChild(tr);
    }
    $('caseload-empty').hidden = rows.length > 0;
  }

  async function showCaseload() {
    $('pupil').hidden = true;
    const q = rangeQuery();
    const cl = await C.api('GET', '/api/v1/caseload?' + q);
    rows = cl.rows;
    q.set('format', 'csv');
    $('caseload-csv').href = '/api/v1/caseload?' + q;
    drawCaseload();
    const body = $('group-rows');
    body.textContent = '';
    for (const g of cl.groups) {
      const label = g.level === 'caseload' ? 'Whole caseload' : (g.level === 'school' ? 'School: ' : 'Class: ') + (g.name || g.id);
      const m = g.measures;
      body.appendChild(C.row([label, g.pupils, fmt(m.attendance_pct, 1), fmt(m.education_engagement_pct, 1),
        fmt(m.learning_hours, 1), fmt(m.social_hours, 1), flagChips(m)]));
    }
    $('caseload').hidden = false;
    C.say('Sessions up to ' + cl.through + '.');
  }

  function drawChart(weeks) {
    const s = $('week-chart');
    s.textContent = '';
    const W = 640, H = 220, left = 30, bottom = 30, top = 10;
    const ph = H - bottom - top;
    const y = (v) => top + ph - (v / 100) * ph;
    for (const v of [0, 50, 90, 100]) {
      s.appendChild(svg('line', { class: v === 90 || v === 50 ? 'guide' : 'axis', x1: left, x2: W, y1: y(v), y2: y(v) }));
      s.appendChild(svg('text', { x: 2, y: y(v) + 4 }, String(v)));
    }
    const slot = (W - left) / Math.max(weeks.length, 1);
    const bw = Math.min(24, slot / 3);
    weeks.forEach((w, i) => {
      const x = left + i * slot + slot / 2;
      s.appendChild(svg('text', { x: x - 16, y: H - 10 }, w.monday.slice(5)));
      if (!w.possible_sessions) {
        s.appendChild(svg('text', { x: x - 20, y: y(10) }, 'no school'));
        return;
      }
      const bar = (cls, v, dx, label) => {
        const r = svg('rect', { class: cls, x: x + dx, y: y(v), width: bw, height: Math.max(0, top + ph - y(v)) });
        r.appendChild(svg('title', {}, label + ' week of ' + w.monday + ': ' + fmt(v, 1) + '%'));
        s.appendChild(r);
      };
      bar('bar-att', w.attendance_pct, -bw - 1, 'Attendance');
      bar('bar-edu', w.education_engagement_pct, 1, 'Education engagement');
    });
  }

  const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];

  function addDays(day, n) {
    const d = new Date(day + 'T12:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  // cell mirrors engagement.SessionResult.Cell, the CSV's text.
  function cellText(s) {
    let t = s.code || '-';
    if (s.learning_ns > 0 && s.scheduled_learning_ns > 0) {
      t += ' robot ' + Math.floor((100 * s.learning_ns) / s.scheduled_learning_ns) + '%';
      if (s.engaged_remote) t += ' engaged';
    }
    if (s.suggested_code) t += ' (suggest ' + s.suggested_code + ')';
    return t;
  }

  function drawGrid(weeks) {
    const head = $('grid-head');
    head.textContent = '';
    const cols = ['Week', 'Possible', 'Attendance %', 'Education %', 'Learning h', 'Social h', 'Active min'];
    for (const d of DAYS) cols.push(d + ' AM', d + ' PM');
    const htr = document.createElement('tr');
    for (const c of cols) htr.appendChild(C.el('th', c, { scope: 'col' }));
    head.appendChild(htr);
    const body = $('grid-rows');
    body.textContent = '';
    for (const w of weeks) {
      const by = {};
      for (const s of w.sessions || []) by[s.day + ' ' + s.session] = s;
      const cells = [w.monday, w.possible_sessions, fmt(w.attendance_pct, 1), fmt(w.education_engagement_pct, 1),
        fmt(w.learning_hours, 2), fmt(w.social_hours, 2), w.active_minutes];
      const tr = C.row(cells);
      DAYS.forEach((_, i) => {
        for (const half of ['AM', 'PM']) {
          const s = by[addDays(w.monday, i) + ' ' + half];
          const td = C.el('td', s && !canMark() ? cellText(s) : '', { class: 'cell' });
          if (s && canMark()) {
            const b = C.el('button', cellText(s), { type: 'button', class: 'mark', 'aria-label': 'Mark ' + s.day + ' ' + s.session + ': ' + cellText(s) });
            b.addEventListener('click', () => openMark(s));
            td.appendChild(b);
          }
          if (s) {
            td.classList.add(!s.possible ? 'np' : s.present ? 'present' : s.engaged_remote ? 'engaged' : 'absent');
            td.dataset.session = s.day + ' ' + s.session;
          }
          tr.appendChild(td);
        }
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

  async function showPupil(id) {
    pupilID = id;
    $('caseload').hidden = true;
    const q = rangeQuery();
    const h = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(id) + '/history?' + q);
    const p = h.pupil;
    $('pupil-name').textContent = p.display_name + ' (' + p.pupil_number + ')';
    $('pupil-meta').textContent = 'Year ' + p.year_group + ' · ' + h.term + ' from ' + h.term_start;
    $('pupil-plans').href = '/plan?pupil=' + encodeURIComponent(p.id);
    const m = h.term_to_date;
    const dl = $('pupil-summary');
    dl.textContent = '';
    for (const [k, v] of [['Attendance (term)', fmt(m.attendance_pct, 1) + '%'],
      ['Remote engagement', fmt(m.remote_engagement_pct, 1) + '%'],
      ['Education engagement', fmt(m.education_engagement_pct, 1) + '%'],
      ['Learning hours', fmt(m.learning_hours, 1)], ['Social hours', fmt(m.social_hours, 1)],
      ['Active minutes', m.active_minutes], ['Sessions possible', m.possible_sessions]]) {
      const d = C.el('div');
      d.appendChild(C.el('dt', k));
      d.appendChild(C.el('dd', v));
      dl.appendChild(d);
    }
    const flags = C.el('div');
    flags.appendChild(C.el('dt', 'Flags'));
    const dd = C.el('dd');
    dd.appendChild(flagChips(m));
    if (!dd.textContent) dd.textContent = 'none';
    flags.appendChild(dd);
    dl.appendChild(flags);
    drawChart(h.weeks);
    drawGrid(h.weeks);
    q.set('format', 'csv');
    $('pupil-csv').href = '/api/v1/pupils/' + encodeURIComponent(id) + '/history?' + q;
    $('printed').textContent = 'Printed ' + new Date().toLocaleString() + ' by ' + me.name + '. Confidential: for the review meeting.';
    $('pupil').hidden = false;
    C.say('');
  }

  async function route() {
    try {
      const m = location.hash.match(/^#pupil=(.+)$/);
      if (m) await showPupil(decodeURIComponent(m[1]));
      else await showCaseload();
    } catch (e) { C.say(e.message, true); }
  }

  for (const th of document.querySelectorAll('#caseload-table th[data-key]')) {
    th.tabIndex = 0;
    const sort = () => {
      if (sortKey === th.dataset.key) sortDir = -sortDir;
      else { sortKey = th.dataset.key; sortDir = 1; }
      drawCaseload();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sort(); } });
  }
  $('range').addEventListener('submit', (ev) => { ev.preventDefault(); route(); });
  $('back').addEventListener('click', (ev) => { ev.preventDefault(); location.hash = ''; });
  $('print').addEventListener('click', () => window.print());
  $('mark-form').addEventListener('submit', saveMark);
  $('mark-cancel').addEventListener('click', () => { $('mark-form').hidden = true; });
  window.addEventListener('hashchange', route);
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
