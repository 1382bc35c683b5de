// The pupil's own plan and lesson material, in plain, friendly words,
// in a sheet opened from "My plan" once the device has joined (the
// pupil's session cookie).
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const P = window.seatlinkPlan;
  const { t } = window.seatlinkI18n;
  const $ = (id) => document.getElementById(id);
  let shown = false;
  const say = (text) => { $('status').textContent = text; };

  async function show() {
    const me = await C.session();
    if (!me || me.kind !== 'pupil') return;
    const body = $('my-plan-body');
    body.textContent = '';
    try {
      const plans = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/plans');
      const plan = plans.find((p) => p.status === 'active');
      if (plan) {
        body.appendChild(C.el('p', t('pupil.plan.intro', { ends: P.nice(plan.ends_on) })));
        body.appendChild(P.phasesInWords(plan, true));
        const form = P.noteForm(plan.id, t('pupil.plan.note_label'), () => say(t('pupil.plan.note_sent')));
        // Answers to the note (sent, or why not) appear right under it.
        form.addEventListener('submit', () => say(''), true);
        body.appendChild(form);
        const next = (plan.reviews || []).map((r) => r.on).filter((on) => on >= today()).sort()[0];
        if (next) body.appendChild(await voiceForm(plan, next, me));
      } else {
        body.appendChild(C.el('p', t('pupil.plan.none')));
      }
      const box = $('my-materials');
      box.textContent = '';
      box.appendChild(P.materials(await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/materials'), true));
    } catch (e) {
      body.appendChild(C.el('p', t('pupil.plan.failed')));
    }
    $('open-plan').hidden = false;
  }

  // today is the date where the pupil is, YYYY-MM-DD.
  function today() {
    const d = new Date();
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  // voiceForm is "what I want to say" before the plan's next review: the
  // pupil's own words, read at the review and kept with what it decides.
  async function voiceForm(plan, on, me) {
    const box = C.el('section', null, { class: 'voice', 'aria-labelledby': 'voice-title' });
    box.appendChild(C.el('h3', t('pupil.voice.title'), { id: 'voice-title' }));
    box.appendChild(C.el('p', t('pupil.voice.when', { date: window.seatlinkI18n.date(on) })));
    let said = [];
    try {
      said = (await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/voice')).filter((v) => v.plan_id === plan.id && v.review_on === on);
    } catch (e) { said = []; }
    const last = C.el('p', said.length ? t('pupil.voice.last', { words: said[0].words }) : '', { class: 'said', id: 'voice-last' });
    const f = C.el('form', null, { class: 'form voice-form' });
    const l = C.el('label', t('pupil.voice.label'), { for: 'voice-words' });
    const ta = C.el('textarea', null, { id: 'voice-words', rows: '3', maxlength: '2000', required: '' });
    const status = C.el('p', '', { class: 'said', id: 'voice-status', role: 'status', 'aria-live': 'polite' });
    f.append(l, ta, C.el('button', t('pupil.voice.send'), { type: 'submit' }), status);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await C.api('POST', '/api/v1/plans/' + encodeURIComponent(plan.id) + '/reviews/' + on + '/voice', { words: ta.value });
        last.textContent = t('pupil.voice.last', { words: ta.value.trim() });
        ta.value = '';
        status.textContent = t('pupil.voice.sent');
      } catch (e) { status.textContent = e.message; }
    });
    box.append(last, f);
    return box;
  }

  document.addEventListener('seatlink:joined', () => {
    if (shown) return;
    shown = true;
    show();
  });
})();
