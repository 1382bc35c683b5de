// The pupil's own plan and lesson material, in plain, friendly words,
// shown once the device has joined (the pupil's session cookie).
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const P = window.seatlinkPlan;
  const $ = (id) => document.getElementById(id);
  let shown = false;

  async function show() {
    const me = await C.session();
    if (!me || me.kind !== 'pupil') return;
    const body = $('my-plan-body');
    body.textContent = '';
    try {
      const plans = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/plans');
      const plan = plans.find((p) => p.status === 'active');
      if (plan) {
        body.appendChild(C.el('p', 'This is the plan you made with your family and your school. Step by step, you will ' +
          'spend more time in class and less through the robot. It ends on ' + P.nice(plan.ends_on) + '.'));
        body.appendChild(P.phasesInWords(plan, true));
        body.appendChild(P.noteForm(plan.id, 'Tell your school how it is going (only your school, your family and your ' +
          'education welfare officer will read it)'));
      } else {
        body.appendChild(C.el('p', 'You do not have a plan yet.'));
      }
      const box = $('my-materials');
      box.textContent = '';
      box.appendChild(P.materials(await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/materials'), true));
      $('my-plan').hidden = false;
    } catch (e) {
      body.appendChild(C.el('p', 'Your plan could not be loaded just now.'));
    }
  }

  document.addEventListener('seatlink:joined', () => {
    if (shown) return;
    shown = true;
    show();
  });
})();
