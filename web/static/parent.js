// Parents: accept an invitation (token in the URL fragment), sign in, and
// see their own children. The server limits every call to the parent's
// own children.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const P = window.seatlinkPlan;
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
      C.say(e.status === 410 ? 'This invitation has expired or was already used. Ask the school for a new one.' : e.message, true);
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
    for (const k of kids) list.appendChild(C.el('li', k.display_name + ' (year ' + k.year_group + ')'));
    $('children').hidden = false;
    const box = $('child-plans');
    box.textContent = '';
    for (const k of kids) box.appendChild(await childPlan(k));
  }

  // childPlan shows a child's current plan (the active one, else the
  // newest), its progress, the lesson material, and a place for the
  // parent's own view.
  async function childPlan(k) {
    const sec = C.el('section', null, { class: 'child', 'data-pupil': k.id });
    sec.appendChild(C.el('h2', k.display_name + ': the plan back to school'));
    try {
      const plans = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(k.id) + '/plans');
      const plan = plans.find((p) => p.status === 'active') || plans[0];
      if (!plan) {
        sec.appendChild(C.el('p', 'There is no plan yet. The school or the education welfare officer will write it with you.'));
      } else {
        const pr = await C.api('GET', '/api/v1/plans/' + encodeURIComponent(plan.id) + '/progress');
        if (plan.summary) sec.appendChild(C.el('p', plan.summary));
        sec.appendChild(C.el('p', 'From ' + P.nice(plan.starts_on) + ' to ' + P.nice(plan.ends_on) +
          (plan.status === 'draft' ? ' (a draft, still being agreed)' : '') + '.'));
        sec.appendChild(P.timeline(pr));
        sec.appendChild(P.phasesInWords(plan, false));
        sec.appendChild(C.el('h3', 'Notes'));
        sec.appendChild(P.notes(plan));
        sec.appendChild(P.noteForm(plan.id, 'Your view, as a parent', start));
      }
      sec.appendChild(C.el('h3', 'Lesson material'));
      sec.appendChild(P.materials(await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(k.id) + '/materials'), false));
    } catch (e) { sec.appendChild(C.el('p', e.message)); }
    return sec;
  }

  start();
})();
