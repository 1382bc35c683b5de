// Parents: accept an invitation (token in the URL fragment), sign in, and
// see their own children: how each is getting on this week and this term
// in plain words, the plan with its timeline and legend, notes and lesson
// material; their key adult (the family's one point of contact at school)
// and the messages with school (casework.js). The server limits every
// call to the parent's own children.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const P = window.seatlinkPlan;
  const CW = window.seatlinkCasework;
  const I = window.seatlinkI18n;
  const t = I.t;
  const $ = (id) => document.getElementById(id);
  const invite = location.pathname === '/parent/invite' ? location.hash.replace(/^#/, '') : '';

  $('accept-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await C.api('POST', '/api/v1/parent/invitation', { token: invite, password: C.formData(ev.target).password });
      history.replaceState(null, '', '/parent');
      $('accept').hidden = true;
      await start();
    } catch (e) {
      C.say(e.status === 410 ? t('parent.accept.expired') : e.message, true);
    }
  });
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await C.api('POST', '/api/v1/parent/session', C.formData(ev.target));
      await start();
    } catch (e) { C.say(e.message, true); }
  });
  $('signout').addEventListener('click', C.signOut);

  async function start() {
    const me = await C.session();
    if (!me || me.kind !== 'parent') {
      if (invite) $('accept').hidden = false; else $('signin').hidden = false;
      return;
    }
    $('signin').hidden = true;
    $('who').textContent = me.name;
    $('signout').hidden = false;
    const kids = await C.api('GET', '/api/v1/pupils');
    const list = $('child-list');
    list.textContent = '';
    for (const k of kids) {
      const li = C.el('li');
      li.appendChild(C.el('a', t('parent.child.item', { name: k.display_name, year: I.number(k.year_group) }), { href: '#child-' + k.id }));
      list.appendChild(li);
    }
    $('children').hidden = false;
    const box = $('child-plans');
    box.textContent = '';
    for (const k of kids) box.appendChild(await child(k));
    document.body.dataset.ready = '1';
  }

  const pct = (p) => I.number(p / 100, { style: 'percent', maximumFractionDigits: 0 });

  // duration is minutes in words ("1 hour 20 minutes").
  function duration(min) {
    const h = Math.floor(min / 60), m = min % 60;
    if (!h) return t('parent.minutes', { n: m });
    if (!m) return t('parent.hours', { n: h });
    return t('parent.hours_minutes', { hours: t('parent.hours', { n: h }), minutes: t('parent.minutes', { n: m }) });
  }

  // weekWords says the school week so far in plain words.
  function weekWords(o, name) {
    const w = o.this_week;
    const out = [];
    if (!w.possible_sessions) return [t('parent.week.no_school')];
    if (w.marked_sessions) out.push(t('parent.week.in_school', { n: w.on_site_sessions, of: I.number(w.marked_sessions), name }));
    if (w.approved_activity_sessions) out.push(t('parent.week.approved', { n: w.approved_activity_sessions }));
    if (w.remote_not_on_site_sessions) out.push(t('parent.week.robot', { n: w.remote_not_on_site_sessions, name }));
    if (w.learning_minutes) out.push(t('parent.week.learning', { time: duration(w.learning_minutes) }));
    if (w.unmarked_sessions) out.push(t('parent.week.unmarked', { n: w.unmarked_sessions }));
    return out;
  }

  // termWords says the term to date in plain words.
  function termWords(o, name) {
    const m = o.term_to_date;
    const out = [];
    const since = o.term_start ? I.date(o.term_start, { day: 'numeric', month: 'long' }) : '';
    if (m.attendance_pct === null || m.attendance_pct === undefined) {
      out.push(t('parent.term.nothing'));
    } else {
      out.push(t('parent.term.attendance', { since, pct: pct(m.attendance_pct), n: m.present_sessions, of: I.number(m.marked_sessions), name }));
    }
    if (m.remote_not_on_site_sessions) out.push(t('parent.term.robot', { n: m.remote_not_on_site_sessions, name }));
    if (m.education_engagement_pct !== null && m.education_engagement_pct !== undefined && m.remote_not_on_site_sessions) {
      out.push(t('parent.term.education', { pct: pct(m.education_engagement_pct), name }));
    }
    if (m.learning_minutes) out.push(t('parent.term.learning', { time: duration(m.learning_minutes) }));
    return out;
  }

  function progressBox(o, name) {
    const box = C.el('div', null, { class: 'progress' });
    const part = (title, lines, cls) => {
      const d = C.el('div', null, { class: cls });
      d.appendChild(C.el('h4', title));
      const ul = C.el('ul');
      for (const l of lines) ul.appendChild(C.el('li', l));
      d.appendChild(ul);
      box.appendChild(d);
    };
    part(t('parent.week.title', { date: I.date(o.week_monday, { day: 'numeric', month: 'long' }) }), weekWords(o, name), 'week');
    part(o.term ? t('parent.term.title_named', { term: o.term }) : t('parent.term.title'), termWords(o, name), 'term');
    box.appendChild(C.el('p', t('parent.progress.note'), { class: 'meta' }));
    return box;
  }

  // child shows how a child is getting on, their current plan (the
  // active one, else the newest) with its progress, the lesson material,
  // and a place for the parent's own view.
  async function child(k) {
    const sec = C.el('section', null, { class: 'child', 'data-pupil': k.id, id: 'child-' + k.id, 'aria-labelledby': 'name-' + k.id });
    const h2 = C.el('h2', k.display_name, { id: 'name-' + k.id });
    sec.appendChild(h2);
    // The key adult and the messages with school come first: they are
    // what a parent comes back for.
    try {
      sec.appendChild(C.el('h3', t('parent.key_adult.title', { name: k.display_name })));
      sec.appendChild(CW.keyAdultCard(await CW.keyAdult(k.id), true));
      const th = await CW.thread(k.id, { family: true, level: 3, onRead: (n) => {
        if (n) h2.append(' ', C.el('span', t('parent.unread', { n }), { class: 'chip new child-unread' }));
      } });
      if (th) sec.appendChild(th);
    } catch (e) { sec.appendChild(C.el('p', e.message)); }
    try {
      sec.appendChild(C.el('h3', t('parent.progress.title', { name: k.display_name })));
      try {
        sec.appendChild(progressBox(await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(k.id) + '/overview'), k.display_name));
      } catch (e) { sec.appendChild(C.el('p', e.message)); }
      sec.appendChild(C.el('h3', t('parent.plan.title')));
      const plans = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(k.id) + '/plans');
      const plan = plans.find((p) => p.status === 'active') || plans[0];
      if (!plan) {
        sec.appendChild(C.el('p', t('parent.plan.none')));
      } else {
        const pr = await C.api('GET', '/api/v1/plans/' + encodeURIComponent(plan.id) + '/progress');
        if (plan.summary) sec.appendChild(C.el('p', plan.summary));
        sec.appendChild(C.el('p', t(plan.status === 'draft' ? 'parent.plan.dates_draft' : 'parent.plan.dates',
          { from: P.nice(plan.starts_on), to: P.nice(plan.ends_on) })));
        const fig = C.el('figure', null, { class: 'chart' });
        fig.appendChild(P.timeline(pr, document.querySelector('main').clientWidth - 40));
        fig.appendChild(C.el('figcaption', t('parent.plan.caption')));
        sec.appendChild(fig);
        sec.appendChild(P.legend());
        sec.appendChild(P.phasesInWords(plan, false));
        sec.appendChild(C.el('h3', t('plan.view.notes')));
        sec.appendChild(P.notes(plan));
        sec.appendChild(P.noteForm(plan.id, t('parent.note.label'), start));
      }
      sec.appendChild(C.el('h3', t('plan.view.materials')));
      sec.appendChild(P.materials(await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(k.id) + '/materials'), false));
    } catch (e) { sec.appendChild(C.el('p', e.message)); }
    return sec;
  }

  start();
})();
