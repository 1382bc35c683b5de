// Shared by the plan, parent and pupil pages: a plan's timeline chart
// with its legend, its phases in plain words, notes, and lesson material
// with downloads. Every figure comes from the server; text goes in with
// textContent only, and every word from the page's catalogue (i18n.js).
'use strict';

window.seatlinkPlan = (() => {
  const C = window.seatlinkConsole;
  const I = window.seatlinkI18n;
  const t = I.t;
  const SVG = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const day = (s) => new Date(s + 'T12:00:00Z').getTime();
  // nice is a day (YYYY-MM-DD) as "3 Nov" in the page's language.
  const nice = (s) => I.date(s, { day: 'numeric', month: 'short' });
  // inWords is a list of parts in the page's words ("a, b and c"; the
  // browser's own list format may lack the language).
  function inWords(parts) {
    if (parts.length < 2) return parts[0] || '';
    return t('plan.phase.list_and', { list: parts.slice(0, -1).join(', '), last: parts[parts.length - 1] });
  }

  // timeline draws the phases as bands across the plan's dates and, for
  // each week, sessions in school and through the robot against the
  // phase's targets (a dashed line). width is the width to draw at (the
  // box it goes in), so that its words stay readable on a phone.
  function timeline(progress, width) {
    const plan = progress.plan;
    const W = Math.round(Math.max(280, Math.min(width || 720, 960))), H = 240, left = 30, right = 10, top = 38, bottom = 24;
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'timeline', role: 'img', 'aria-label': t('plan.timeline.label') });
    s.style.maxWidth = W + 'px';
    const t0 = day(plan.starts_on), t1 = day(plan.ends_on) + 864e5;
    const x = (v) => left + ((v - t0) / (t1 - t0)) * (W - left - right);
    const max = 10;
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    plan.phases.forEach((ph, i) => {
      const a = x(day(ph.starts_on)), b = x(day(ph.ends_on) + 864e5);
      s.appendChild(svg('rect', { class: 'phase phase' + (i % 3), x: a, y: 4, width: Math.max(1, b - a), height: 22 }));
      // The name where it fits, else its number (the phases are listed
      // by number under the chart).
      const label = (i + 1) + '. ' + ph.name;
      s.appendChild(svg('text', { x: a + 4, y: 19, class: 'phase-label' }, label.length * 7 < b - a - 6 ? label : String(i + 1)));
    });
    for (const v of [0, 5, 10]) {
      s.appendChild(svg('line', { class: 'axis', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      s.appendChild(svg('text', { x: 4, y: y(v) + 4 }, I.number(v)));
    }
    const now = Date.now();
    if (now > t0 && now < t1) s.appendChild(svg('line', { class: 'today', x1: x(now), x2: x(now), y1: top - 8, y2: H - bottom }));
    for (const w of progress.weeks) {
      const a = x(day(w.monday)), wd = Math.max(3, x(day(w.monday) + 5 * 864e5) - a - 2);
      const school = svg('rect', { class: 'wk-school', x: a, y: y(w.in_school_sessions), width: wd,
        height: y(0) - y(w.in_school_sessions) });
      // A part week (term start or end, a holiday, days not marked) is
      // judged against targets pro-rated to its sessions (the server's due_*).
      const part = w.available_sessions < w.full_week_sessions;
      const vars = { monday: nice(w.monday), school: I.number(w.in_school_sessions), school_target: I.number(w.target_school_sessions),
        robot: I.number(w.robot_sessions), robot_target: I.number(w.target_robot_sessions), due: I.number(w.due_school_sessions),
        available: I.number(w.available_sessions), full: I.number(w.full_week_sessions) };
      let title = t(part ? 'plan.timeline.week_part' : 'plan.timeline.week', vars);
      if (w.judged) title = t(w.met ? 'plan.timeline.met' : 'plan.timeline.missed', { week: title });
      school.appendChild(svg('title', {}, title));
      s.appendChild(school);
      const top2 = w.in_school_sessions + w.robot_sessions;
      s.appendChild(svg('rect', { class: 'wk-robot', x: a, y: y(top2), width: wd, height: y(w.in_school_sessions) - y(top2) }));
      const tgt = w.due_together_sessions;
      s.appendChild(svg('line', { class: 'target', x1: a, x2: a + wd, y1: y(tgt), y2: y(tgt) }));
      if (w.judged && !w.met) s.appendChild(svg('text', { x: a, y: H - 6, class: 'missed' }, '!'));
    }
    s.appendChild(svg('text', { x: left, y: H - 6 }, nice(plan.starts_on)));
    s.appendChild(svg('text', { x: W - right, y: H - 6, 'text-anchor': 'end' }, nice(plan.ends_on)));
    return s;
  }

  // legend says what the timeline's marks are: a list a screen reader
  // reads too (the chart itself is one picture to it).
  function legend() {
    const ul = C.el('ul', null, { class: 'legend' });
    for (const [cls, key] of [['sw-school', 'plan.legend.school'], ['sw-robot', 'plan.legend.robot'], ['sw-target', 'plan.legend.target'],
      ['sw-missed', 'plan.legend.missed'], ['sw-today', 'plan.legend.today'], ['sw-phase', 'plan.legend.phase']]) {
      const li = C.el('li');
      const sw = C.el('span', cls === 'sw-missed' ? '!' : null, { class: 'swatch ' + cls, 'aria-hidden': 'true' });
      li.appendChild(sw);
      li.appendChild(document.createTextNode(t(key)));
      ul.appendChild(li);
    }
    return ul;
  }

  // phasesInWords says each phase as a pupil or parent would want to hear it.
  function phasesInWords(plan, forPupil) {
    const ol = C.el('ol', null, { class: 'phases' });
    const today = new Date().toISOString().slice(0, 10);
    for (const ph of plan.phases) {
      const now = ph.starts_on <= today && today <= ph.ends_on;
      const li = C.el('li', null, now ? { class: 'now' } : {});
      li.appendChild(C.el('strong', now ? t(forPupil ? 'plan.phase.now_pupil' : 'plan.phase.now', { name: ph.name }) : ph.name));
      const parts = [];
      if (ph.school_sessions) parts.push(t('plan.phase.school', { n: ph.school_sessions }));
      if (ph.robot_sessions) parts.push(t('plan.phase.robot', { n: ph.robot_sessions }));
      if (ph.other_hours) parts.push(t('plan.phase.other', { n: ph.other_hours }));
      const list = parts.length ? inWords(parts) : t('plan.phase.no_times');
      li.appendChild(C.el('p', t('plan.phase.dates', { from: nice(ph.starts_on), to: nice(ph.ends_on), list })));
      if (ph.robot_use) li.appendChild(C.el('p', t('plan.phase.robot_use', { text: ph.robot_use })));
      if (forPupil && !ph.robot_sessions) li.appendChild(C.el('p', t('plan.phase.well_done')));
      ol.appendChild(li);
    }
    return ol;
  }

  const VOICES = { pupil: 'plan.voice.pupil', parent: 'plan.voice.parent', school: 'plan.voice.school', ewo: 'plan.voice.ewo' };

  function notes(plan) {
    const ul = C.el('ul', null, { class: 'notes' });
    for (const n of plan.notes) {
      const li = C.el('li');
      const who = VOICES[n.voice] ? t(VOICES[n.voice]) : n.voice;
      li.appendChild(C.el('strong', t('plan.note.by', { who, date: I.date(new Date(n.at), { day: 'numeric', month: 'long', year: 'numeric' }) })));
      li.appendChild(document.createTextNode(' ' + n.text));
      ul.appendChild(li);
    }
    if (!plan.notes.length) ul.appendChild(C.el('li', t('plan.notes.none')));
    return ul;
  }

  // noteForm adds a note in the signed-in person's own voice.
  function noteForm(planID, label, after) {
    const f = C.el('form', null, { class: 'form note-form' });
    const l = C.el('label', label);
    const ta = C.el('textarea', null, { name: 'text', rows: '3', maxlength: '2000', required: '' });
    l.appendChild(ta);
    f.appendChild(l);
    f.appendChild(C.el('button', t('plan.note.add'), { type: 'submit' }));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await C.api('POST', '/api/v1/plans/' + encodeURIComponent(planID) + '/notes', { text: ta.value });
        ta.value = '';
        C.say(t('plan.note.added'));
        if (after) await after();
      } catch (e) { C.say(e.message, true); }
    });
    return f;
  }

  function size(n) {
    return n >= 1 << 20 ? t('plan.size.mb', { size: I.number(n / (1 << 20), { maximumFractionDigits: 1, minimumFractionDigits: 1 }) })
      : t('plan.size.kb', { size: I.number(Math.max(1, Math.round(n / 1024))) });
  }

  // materials lists material with a download button each; the link is
  // asked for when pressed (it works for a few minutes).
  function materials(list, forPupil) {
    const ul = C.el('ul', null, { class: 'materials' });
    for (const m of list) {
      const li = C.el('li', null, { 'data-material': m.id });
      li.appendChild(C.el('strong', m.title));
      const meta = [m.subject, t('plan.material.lesson', { date: nice(m.lesson_date) }), size(m.size)].filter(Boolean).join(' · ');
      li.appendChild(C.el('span', ' ' + meta + ' '));
      if (m.missed) li.appendChild(C.el('span', t(forPupil ? 'plan.material.missed_pupil' : 'plan.material.missed'), { class: 'flag persistent' }));
      const b = C.el('button', t('plan.material.download'), { type: 'button', class: 'download',
        'aria-label': t('plan.material.download_named', { title: m.title }) });
      b.addEventListener('click', async () => {
        try {
          const l = await C.api('GET', '/api/v1/materials/' + encodeURIComponent(m.id) + '/link');
          location.assign(l.url);
        } catch (e) { C.say(e.message, true); }
      });
      li.appendChild(b);
      ul.appendChild(li);
    }
    if (!list.length) ul.appendChild(C.el('li', t(forPupil ? 'plan.material.none_pupil' : 'plan.material.none')));
    return ul;
  }

  return { timeline, legend, phasesInWords, notes, noteForm, materials, nice };
})();
