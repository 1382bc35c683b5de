// "How did today feel?": the pupil's own check-in, never required, never
// scored, seen only by them and their key adult. It is offered at the end
// of a lesson through the robot (the robot put to sleep or switched off
// after a while in class) and at any time from "How I feel".
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const { t } = window.seatlinkI18n;
  const $ = (id) => document.getElementById(id);
  const sheet = $('checkin-dialog');
  const form = $('checkin-form');
  const words = $('checkin-words');
  const status = $('checkin-status');
  let me = null;
  let keyAdult = null;
  let inClassSince = 0;

  function countDown() {
    $('checkin-left').textContent = t('pupil.chat.left', { n: 500 - words.value.length });
  }
  words.addEventListener('input', countDown);
  countDown();

  function open() {
    if (sheet.open || document.querySelector('dialog[open]')) return;
    status.textContent = '';
    sheet.showModal();
  }

  // Who sees it, said plainly.
  function showWho() {
    $('checkin-who').textContent = keyAdult ? t('pupil.checkin.who', { name: keyAdult.name }) : t('pupil.checkin.who_none');
    const mine = $('my-key-adult');
    if (keyAdult) {
      mine.textContent = keyAdult.contact ? t('pupil.key_adult.with_contact', { name: keyAdult.name, contact: keyAdult.contact })
        : t('pupil.key_adult.is', { name: keyAdult.name });
      mine.hidden = false;
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = form.querySelector('input[name=feeling]:checked');
    if (!chosen) {
      status.textContent = t('pupil.checkin.pick');
      return;
    }
    try {
      await C.api('POST', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/check-ins',
        { feeling: Number(chosen.value), words: words.value.trim() });
      localStorage.setItem('seatlink.checkedIn', String(Date.now()));
      chosen.checked = false;
      words.value = '';
      countDown();
      status.textContent = keyAdult ? t('pupil.checkin.thanks', { name: keyAdult.name }) : t('pupil.checkin.thanks_none');
    } catch (e) {
      status.textContent = e.message || t('pupil.said.failed');
    }
  });
  $('checkin-close').addEventListener('click', () => sheet.close());
  $('open-checkin').addEventListener('click', open);

  // The end of a lesson: after a while in class, the robot goes to sleep
  // or is switched off. Asked at most once in six hours.
  document.addEventListener('seatlink:state', (ev) => {
    const { word, was } = ev.detail;
    if (word === 'in_class' && !inClassSince) inClassSince = performance.now();
    if (was === 'in_class' && word === 'asleep' && me && inClassSince &&
        performance.now() - inClassSince >= window.seatlink.checkInAfter) {
      inClassSince = 0;
      const last = Number(localStorage.getItem('seatlink.checkedIn') || 0);
      if (Date.now() - last > 6 * 3600 * 1000) open();
    }
  });

  document.addEventListener('seatlink:joined', async () => {
    if (me) return;
    const who = await C.session();
    if (!who || who.kind !== 'pupil') return;
    me = who;
    try {
      keyAdult = await C.api('GET', '/api/v1/pupils/' + encodeURIComponent(me.id) + '/key-adult');
    } catch (e) {
      keyAdult = null; // none yet
    }
    showWho();
    $('open-checkin').hidden = false;
  });
})();
