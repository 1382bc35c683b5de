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

  document.addEventListener('seatlink:joined', () => {
    if (shown) return;
    shown = true;
    show();
  });
})();
