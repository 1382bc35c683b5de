// The staff plan page: a pupil's plans (/plan?pupil=ID), one plan
// (/plan#PLAN): timeline, phases, reviews, material (teachers upload,
// streamed), notes; and, for the EWO and LA admins, the plan editor.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const P = window.seatlinkPlan;
  const S = window.seatlinkSupport;
  const I = window.seatlinkI18n;
  const t = I.t;
  const $ = (id) => document.getElementById(id);
  let me = null;
  let current = null; // the plan shown
  let pupil = null;

  const status = (s) => (I.has('plan.status.' + s) ? t('plan.status.' + s) : s);
  const canEdit = () => me && (me.role === 'ewo' || me.role === 'admin');
  const canUpload = () => me && (me.role === 'teacher' || me.role === 'admin');

  // input is one field of an editor row, named by its column's heading
  // (which a narrow screen shows beside it: the rows become cards).
  function input(name, type, value, label, attrs) {
    const i = C.el('input', null, Object.assign({ name, type, 'aria-label': t(label) }, attrs || {}));
    i.value = value === undefined || value === null ? '' : value;
    return i;
  }
  function editorRow(body, inputs, removeLabel) {
    const tr = C.row(inputs);
    inputs.forEach((i, k) => tr.children[k].setAttribute('data-label', i.getAttribute('aria-label')));
    const td = document.createElement('td');
    const b = C.el('button', t('plan.edit.remove'), { type: 'button', 'aria-label': removeLabel });
    b.addEventListener('click', () => tr.remove());
    td.appendChild(b);
    tr.appendChild(td);
    body.appendChild(tr);
  }
  function phaseRow(ph) {
    const n = $('phase-rows').children.length + 1;
    editorRow($('phase-rows'), [input('name', 'text', ph.name, 'plan.edit.phase_name'),
      input('starts_on', 'date', ph.starts_on, 'plan.edit.from'), input('ends_on', 'date', ph.ends_on, 'plan.edit.to'),
      input('school_sessions', 'number', ph.school_sessions, 'plan.edit.school', { min: 0, max: 10 }),
      input('robot_sessions', 'number', ph.robot_sessions, 'plan.edit.robot', { min: 0, max: 10 }),
      input('other_hours', 'number', ph.other_hours, 'plan.edit.other', { min: 0, max: 40, step: '0.5' }),
      input('robot_use', 'text', ph.robot_use, 'plan.edit.use')], t('plan.edit.remove_phase', { n }));
  }
  function reviewRow(r) {
    const held = input('held', 'checkbox', undefined, 'plan.edit.held');
    held.checked = !!r.held;
    editorRow($('review-rows'), [input('on', 'date', r.on, 'plan.edit.review_date'), held],
      t('plan.edit.remove_review', { n: $('review-rows').children.length + 1 }));
  }

  function openEditor(plan) {
    const f = $('plan-form');
    f.status.value = plan ? plan.status : 'draft';
    f.plan_starts.value = plan ? plan.starts_on : '';
    f.plan_ends.value = plan ? plan.ends_on : '';
    f.summary.value = plan ? plan.summary : '';
    $('phase-rows').textContent = '';
    $('review-rows').textContent = '';
    (plan ? plan.phases : [{}]).forEach(phaseRow);
    (plan ? plan.reviews : []).forEach(reviewRow);
    $('plan-errors').textContent = '';
    $('editor-title').textContent = plan ? t('plan.edit.change') : t('plan.edit.new', { name: pupil.display_name });
    $('plan').hidden = true;
    $('plans').hidden = true;
    $('editor').hidden = false;
  }

  function readEditor() {
    const f = $('plan-form');
    const val = (tr, n) => tr.querySelector('[name=' + n + ']');
    return {
      status: f.status.value, starts_on: f.plan_starts.value, ends_on: f.plan_ends.value, summary: f.summary.value,
      version: current ? current.version : 0,
      phases: Array.from($('phase-rows').children).map((tr) => ({
        name: val(tr, 'name').value, starts_on: val(tr, 'starts_on').value, ends_on: val(tr, 'ends_on').value,
        school_sessions: Number(val(tr, 'school_sessions').value || 0), robot_sessions: Number(val(tr, 'robot_sessions').value || 0),
        other_hours: Number(val(tr, 'other_hours').value || 0), robot_use: val(tr, 'robot_use').value })),
      reviews: Array.from($('review-rows').children).map((tr) => ({ on: val(tr, 'on').value, held: val(tr, 'held').checked })),
    };
  }

  $('add-phase').addEventListener('click', () => phaseRow({}));
  $('add-review').addEventListener('click', () => reviewRow({}));
  $('cancel-edit').addEventListener('click', () => { $('editor').hidden = true; route(); });
  $('plan-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = readEditor();
    const errs = $('plan-errors');
    errs.textContent = '';
    try {
      const saved = current
        ? await C.api('PUT', '/api/v1/plans/' + encodeURIComponent(current.id), body)
        : await C.api('POST', '/api/v1/pupils/' + encodeURIComponent(pupil.id) + '/plans', body);
      C.say(t('plan.edit.saved'));
      $('editor').hidden = true;
      if (location.hash === '#' + saved.id) await route(); else location.hash = saved.id;
    } catch (e) {
      const fields = e.data && e.data.error && e.data.error.fields;
      for (const fe of fields || []) errs.appendChild(C.el('li', fe.message));
      C.say(e.status === 409 ? t('plan.edit.conflict') : t('plan.edit.not_saved'), true);
    }
  });

  async function showList(pupilID) {
    pupil = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(pupilID));
    const plans = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(pupilID) + '/plans');
    $('plans-title').textContent = t('plan.list.title_for', { name: pupil.display_name });
    const ul = $('plan-list');
    ul.textContent = '';
    for (const p of plans) {
      const li = C.el('li');
      li.appendChild(C.el('a', t('plan.list.item', { from: P.nice(p.starts_on), to: P.nice(p.ends_on), status: status(p.status) }),
        { href: '#' + p.id }));
      ul.appendChild(li);
    }
    if (!plans.length) ul.appendChild(C.el('li', t('plan.list.none')));
    $('new-plan').hidden = !canEdit();
    $('plans').hidden = false;
  }

  async function showPlan(id) {
    const pr = await C.api('GET', '/api/v1/plans/' + encodeURIComponent(id) + '/progress');
    const plan = pr.plan;
    current = plan;
    pupil = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(plan.pupil_id));
    $('plan-title').textContent = t('plan.view.title', { name: pupil.display_name });
    $('plan-meta').textContent = t('plan.view.meta', { status: status(plan.status), from: P.nice(plan.starts_on), to: P.nice(plan.ends_on),
      version: I.number(plan.version) });
    const f = pr.flags;
    const flags = [];
    if (f.review_overdue) flags.push(t('plan.flag.review_overdue'));
    else if (f.review_due) flags.push(t('plan.flag.review_due'));
    if (f.past_end) flags.push(t('plan.flag.past_end'));
    if (f.missed_two_weeks) flags.push(t('plan.flag.missed_two_weeks'));
    $('plan-flags').textContent = flags.join(' ');
    $('plan-flags').className = flags.length ? 'alerts' : '';
    $('plan-summary').textContent = plan.summary;
    const chart = $('plan-chart');
    chart.textContent = '';
    chart.appendChild(P.timeline(pr, document.querySelector('main').clientWidth - 40));
    $('plan-legend').textContent = '';
    $('plan-legend').appendChild(P.legend());
    const phases = $('plan-phases');
    phases.textContent = '';
    phases.appendChild(P.phasesInWords(plan, false));
    await showReviews(plan);
    const notes = $('plan-notes');
    notes.textContent = '';
    notes.appendChild(P.notes(plan));
    const slot = $('note-slot');
    slot.textContent = '';
    slot.appendChild(P.noteForm(plan.id, t(me.role === 'teacher' ? 'plan.note.school' : 'plan.note.ewo'), () => showPlan(id)));
    await showMaterials();
    const sel = $('upload-phase');
    sel.textContent = '';
    sel.appendChild(C.el('option', t('plan.upload.no_phase'), { value: '' }));
    plan.phases.forEach((ph, i) => sel.appendChild(C.el('option', (i + 1) + '. ' + ph.name, { value: ph.id })));
    $('upload-form').hidden = !canUpload() || !pupil.classroom_id;
    $('edit-plan').hidden = !canEdit() || plan.status === 'ended';
    const hist = await C.api('GET', '/api/v1/plans/' + encodeURIComponent(id) + '/history');
    $('plan-history').textContent = t('plan.view.history', { n: hist.length,
      when: I.date(new Date(plan.updated_at), { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' }) });
    $('plans').hidden = true;
    $('plan').hidden = false;
  }

  // showReviews lists the plan's reviews; for staff who may see the
  // pupil's case (support.js; others get the dates alone) each has its
  // record, or a form to record it with the pupil's own words shown
  // first, and the plan links to the pupil's barriers and support.
  async function showReviews(plan, recordedOn) {
    let c = null;
    try { c = await S.load(plan.pupil_id); } catch (e) { c = null; }
    $('plan-case').hidden = !c;
    $('plan-case-link').href = '/ewo#pupil=' + encodeURIComponent(plan.pupil_id);
    S.reviews($('plan-reviews'), plan, c, { pupilName: pupil.display_name, onRecorded: async (on) => {
      await showReviews(plan, on);
    } });
    if (recordedOn) C.result($('review-status'), t('plan.review.recorded', { date: P.nice(recordedOn) }));
  }

  async function showMaterials() {
    const list = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(pupil.id) + '/materials');
    const box = $('plan-materials');
    box.textContent = '';
    box.appendChild(P.materials(list, false));
    if (canEdit() && list.length && current) box.appendChild(attachForm(list));
  }

  // attachForm lets the EWO put a material on a phase of this plan.
  function attachForm(list) {
    const f = C.el('form', null, { class: 'form inline', id: 'attach-form' });
    const pick = (name, label, items) => {
      const l = C.el('label', label);
      const sel = C.el('select', null, { name });
      for (const [v, t] of items) sel.appendChild(C.el('option', t, { value: v }));
      l.appendChild(sel);
      f.appendChild(l);
      return sel;
    };
    const mat = pick('material', t('plan.attach.material'), list.map((m) => [m.id, m.title]));
    const ph = pick('phase', t('plan.attach.phase'), current.phases.map((p, i) => [p.id, (i + 1) + '. ' + p.name]));
    f.appendChild(C.el('button', t('plan.attach.send'), { type: 'submit' }));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await C.api('POST', '/api/v1/plan-phases/' + encodeURIComponent(ph.value) + '/materials', { material_id: mat.value });
        C.say(t('plan.attach.done'));
        await showMaterials();
      } catch (e) { C.say(e.message, true); }
    });
    return f;
  }

  $('upload-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const file = f.file.files[0];
    if (!file) return;
    const q = new URLSearchParams({ title: f.title.value, subject: f.subject.value, lesson_date: f.lesson_date.value,
      phase_id: f.phase_id.value, filename: file.name });
    C.say(t('plan.upload.sending', { name: file.name }));
    try {
      // The file itself is the body: the server streams it to the store.
      await C.api('POST', '/api/v1/classrooms/' + encodeURIComponent(pupil.classroom_id) + '/materials?' + q, file,
        file.type || 'application/octet-stream');
      f.reset();
      C.say(t('plan.upload.done'));
      await showMaterials();
    } catch (e) { C.say(e.message, true); }
  });
  $('new-plan').addEventListener('click', () => { current = null; openEditor(null); });
  $('edit-plan').addEventListener('click', () => openEditor(current));

  async function route() {
    try {
      const id = location.hash.replace(/^#/, '');
      const q = new URLSearchParams(location.search);
      if (id) await showPlan(decodeURIComponent(id));
      else if (q.get('pupil')) await showList(q.get('pupil'));
      else C.say(t('plan.list.choose'));
    } catch (e) { C.say(e.message, true); }
  }
  window.addEventListener('hashchange', route);
  C.staffPage(async (who) => {
    me = who;
    await route();
  });
})();
