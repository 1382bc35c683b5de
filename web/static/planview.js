// Shared by the plan, parent and pupil pages: a plan's timeline chart,
// its phases in plain words, notes, and lesson material with downloads.
// Every figure comes from the server; text goes in with textContent only.
'use strict';

window.seatlinkPlan = (() => {
  const C = window.seatlinkConsole;
  const SVG = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const day = (s) => new Date(s + 'T12:00:00Z').getTime();
  const nice = (s) => new Date(s + 'T12:00:00Z').toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });

  // timeline draws the phases as bands across the plan's dates and, for
  // each week, sessions in school and through the robot against the
  // phase's targets (a dashed line).
  function timeline(progress) {
    const plan = progress.plan;
    const W = 720, H = 240, left = 30, right = 10, top = 38, bottom = 24;
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'timeline', role: 'img',
      'aria-label': 'Plan timeline: phases, and each week\'s sessions in school and through the robot against the targets' });
    const t0 = day(plan.starts_on), t1 = day(plan.ends_on) + 864e5;
    const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
    const max = 10;
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    plan.phases.forEach((ph, i) => {
      const a = x(day(ph.starts_on)), b = x(day(ph.ends_on) + 864e5);
      s.appendChild(svg('rect', { class: 'phase phase' + (i % 3), x: a, y: 4, width: Math.max(1, b - a), height: 22 }));
      s.appendChild(svg('text', { x: a + 4, y: 19, class: 'phase-label' }, (i + 1) + '. ' + ph.name));
    });
    for (const v of [0, 5, 10]) {
      s.appendChild(svg('line', { class: 'axis', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      s.appendChild(svg('text', { x: 4, y: y(v) + 4 }, String(v)));
    }
    const now = Date.now();
    if (now > t0 && now < t1) s.appendChild(svg('line', { class: 'today', x1: x(now), x2: x(now), y1: top - 8, y2: H - bottom }));
    for (const w of progress.weeks) {
      const a = x(day(w.monday)), wd = Math.max(4, x(day(w.monday) + 5 * 864e5) - a - 2);
      const school = svg('rect', { class: 'wk-school', x: a, y: y(w.in_school_sessions), width: wd,
        height: y(0) - y(w.in_school_sessions) });
      // A part week (term start or end, a holiday, days not marked) is
      // judged against targets pro-rated to its sessions (the server's due_*).
      const part = w.available_sessions < w.full_week_sessions;
      school.appendChild(svg('title', {}, 'Week of ' + w.monday + ': ' + w.in_school_sessions + ' in school (target ' +
        w.target_school_sessions + (part ? ', ' + w.due_school_sessions + ' for ' + w.available_sessions + ' of ' +
        w.full_week_sessions + ' sessions' : '') + '), ' + w.robot_sessions + ' through the robot (target ' + w.target_robot_sessions + ')' +
        (w.judged ? (w.met ? ': targets met' : ': targets missed') : '')));
      s.appendChild(school);
      const top2 = w.in_school_sessions + w.robot_sessions;
      s.appendChild(svg('rect', { class: 'wk-robot', x: a, y: y(top2), width: wd, height: y(w.in_school_sessions) - y(top2) }));
      const tgt = w.due_together_sessions;
      s.appendChild(svg('line', { class: 'target', x1: a, x2: a + wd, y1: y(tgt), y2: y(tgt) }));
      if (w.judged && !w.met) s.appendChild(svg('text', { x: a, y: H - 6, class: 'missed' }, '!'));
    }
    s.appendChild(svg('text', { x: left, y: H - 6 }, nice(plan.starts_on)));
    s.appendChild(svg('text', { x: W - right - 48, y: H - 6 }, nice(plan.ends_on)));
    return s;
  }

  // phasesInWords says each phase as a pupil or parent would want to hear it.
  function phasesInWords(plan, forPupil) {
    const ol = C.el('ol', null, { class: 'phases' });
    const today = new Date().toISOString().slice(0, 10);
    for (const ph of plan.phases) {
      const now = ph.starts_on <= today && today <= ph.ends_on;
      const li = C.el('li', null, now ? { class: 'now' } : {});
      li.appendChild(C.el('strong', ph.name + (now ? (forPupil ? ' (this is where you are now)' : ' (now)') : '')));
      const you = forPupil ? 'you' : 'your child';
      const parts = [];
      if (ph.school_sessions) parts.push(ph.school_sessions + (ph.school_sessions === 1 ? ' half-day' : ' half-days') + ' a week in school');
      if (ph.robot_sessions) parts.push(ph.robot_sessions + (ph.robot_sessions === 1 ? ' half-day' : ' half-days') + ' a week joining the class through the robot');
      if (ph.other_hours) parts.push(ph.other_hours + ' hours a week of other learning');
      const list = parts.length > 1 ? parts.slice(0, -1).join(', ') + ' and ' + parts[parts.length - 1] : (parts[0] || 'no set times');
      li.appendChild(C.el('p', 'From ' + nice(ph.starts_on) + ' to ' + nice(ph.ends_on) + ': ' + list + '.'));
      if (ph.robot_use) li.appendChild(C.el('p', 'The robot: ' + ph.robot_use));
      if (forPupil && !ph.robot_sessions) li.appendChild(C.el('p', 'By now ' + you + ' will hardly need the robot. Well done for getting here.'));
      ol.appendChild(li);
    }
    return ol;
  }

  function notes(plan) {
    const ul = C.el('ul', null, { class: 'notes' });
    const who = { pupil: 'Pupil', parent: 'Parent', school: 'School', ewo: 'Education welfare' };
    for (const n of plan.notes) {
      const li = C.el('li');
      li.appendChild(C.el('strong', (who[n.voice] || n.voice) + ', ' + new Date(n.at).toLocaleDateString() + ': '));
      li.appendChild(document.createTextNode(n.text));
      ul.appendChild(li);
    }
    if (!plan.notes.length) ul.appendChild(C.el('li', 'No notes yet.'));
    return ul;
  }

  // noteForm adds a note in the signed-in person's own voice.
  function noteForm(planID, label, after) {
    const f = C.el('form', null, { class: 'form note-form' });
    const l = C.el('label', label);
    const ta = C.el('textarea', null, { name: 'text', rows: '3', maxlength: '2000', required: '' });
    l.appendChild(ta);
    f.appendChild(l);
    f.appendChild(C.el('button', 'Add my note', { type: 'submit' }));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await C.api('POST', '/api/v1/plans/' + encodeURIComponent(planID) + '/notes', { text: ta.value });
        ta.value = '';
        C.say('Your note was added.');
        if (after) await after();
      } catch (e) { C.say(e.message, true); }
    });
    return f;
  }

  function size(n) {
    return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' KB';
  }

  // materials lists material with a download button each; the link is
  // asked for when pressed (it works for a few minutes).
  function materials(list, forPupil) {
    const ul = C.el('ul', null, { class: 'materials' });
    for (const m of list) {
      const li = C.el('li', null, { 'data-material': m.id });
      li.appendChild(C.el('strong', m.title));
      const meta = [m.subject, 'lesson of ' + nice(m.lesson_date), size(m.size)].filter(Boolean).join(' · ');
      li.appendChild(C.el('span', ' ' + meta + ' '));
      if (m.missed) li.appendChild(C.el('span', forPupil ? 'You missed this lesson' : 'Missed lesson', { class: 'flag persistent' }));
      const b = C.el('button', 'Download', { type: 'button', class: 'download' });
      b.addEventListener('click', async () => {
        try {
          const l = await C.api('GET', '/api/v1/materials/' + encodeURIComponent(m.id) + '/link');
          location.assign(l.url);
        } catch (e) { C.say(e.message, true); }
      });
      li.appendChild(b);
      ul.appendChild(li);
    }
    if (!list.length) ul.appendChild(C.el('li', forPupil ? 'Nothing here yet.' : 'No material yet.'));
    return ul;
  }

  return { timeline, phasesInWords, notes, noteForm, materials, nice };
})();
