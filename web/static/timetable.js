// The timetable edit page (in the staff console, for LA admins): a
// school's terms, its week of periods and its code-suggestion policy.
// Saving sends the whole timetable as the CSV import reads it, so the
// page and a MIS file are checked by the same rules, all or nothing.
'use strict';

window.seatlinkTimetable = (() => {
  const C = window.seatlinkConsole;
  const $ = (id) => document.getElementById(id);
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const KINDS = ['lesson', 'break', 'lunch', 'club', 'registration'];
  let school = '';

  function select(name, options, value) {
    const s = C.el('select', null, { name, 'aria-label': name });
    for (const o of options) s.appendChild(C.el('option', o, { value: o }));
    s.value = value;
    return s;
  }
  function input(name, type, value) {
    const i = C.el('input', null, { name, type, 'aria-label': name });
    i.value = value || '';
    return i;
  }
  function removeButton(tr) {
    const b = C.el('button', 'Remove', { type: 'button' });
    b.addEventListener('click', () => tr.remove());
    return b;
  }

  function termRow(t) {
    const tr = C.row([input('name', 'text', t.name), input('starts_on', 'date', t.starts_on), input('ends_on', 'date', t.ends_on)]);
    tr.appendChild(document.createElement('td')).appendChild(removeButton(tr));
    $('terms-rows').appendChild(tr);
  }

  function periodRow(p) {
    const tr = C.row([select('weekday', DAYS.slice(1, 6).concat(['Sat', 'Sun']), DAYS[p.weekday]),
      input('start', 'time', p.starts), input('end', 'time', p.ends), select('kind', KINDS, p.kind),
      select('session', ['AM', 'PM'], p.session), input('name', 'text', p.name), input('classroom', 'text', p.classroom_id)]);
    tr.appendChild(document.createElement('td')).appendChild(removeButton(tr));
    $('periods-rows').appendChild(tr);
  }

  // showErrors lists an import's row errors; rows saved from the page
  // are numbered as in its table (the CSV's row 2 is the table's row 1).
  function showErrors(e, fromTable) {
    const table = $('tt-errors');
    const rep = e.data && e.data.report;
    if (!rep) { table.hidden = true; C.say(e.message, true); return; }
    const body = table.querySelector('tbody');
    body.textContent = '';
    for (const x of rep.errors) body.appendChild(C.row([fromTable ? x.row - 1 : x.row, x.field, x.message]));
    table.hidden = false;
    C.say(e.message, true);
  }

  async function open(id) {
    school = id;
    const base = '/api/v1/schools/' + encodeURIComponent(id);
    const [terms, periods, policy, codes] = await Promise.all([C.api('GET', base + '/terms'), C.api('GET', base + '/periods'),
      C.api('GET', base + '/code-policy'), C.api('GET', '/api/v1/attendance-codes')]);
    $('terms-rows').textContent = '';
    terms.forEach(termRow);
    $('periods-rows').textContent = '';
    periods.forEach(periodRow);
    const sel = $('policy-code');
    sel.textContent = '';
    sel.appendChild(C.el('option', 'nothing (no suggestion)', { value: '' }));
    for (const c of codes) {
      if (c.category !== 'not_possible') sel.appendChild(C.el('option', c.code + ': ' + c.meaning, { value: c.code }));
    }
    sel.value = policy.suggest_code;
    $('tt-errors').hidden = true;
    $('tt-editor').hidden = false;
  }

  function csvField(v) {
    return /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }

  async function saveCSV(text, fromTable) {
    try {
      const r = await C.api('POST', '/api/v1/schools/' + encodeURIComponent(school) + '/timetable', text, 'text/csv');
      await open(school); // the page shows what was saved, then says so
      C.say('Timetable saved: ' + r.periods + ' periods.');
    } catch (e) { showErrors(e, fromTable); }
  }

  function start() {
    $('tt-school-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await open($('tt-school').value); } catch (e) { C.say(e.message, true); }
    });
    $('terms-add').addEventListener('click', () => termRow({ name: '', starts_on: '', ends_on: '' }));
    $('periods-add').addEventListener('click', () => periodRow({ weekday: 1, starts: '09:00', ends: '10:00', kind: 'lesson', session: 'AM', name: '' }));
    $('terms-save').addEventListener('click', async () => {
      const terms = Array.from($('terms-rows').children).map((tr) => ({
        name: tr.querySelector('[name=name]').value, starts_on: tr.querySelector('[name=starts_on]').value,
        ends_on: tr.querySelector('[name=ends_on]').value }));
      try {
        await C.api('PUT', '/api/v1/schools/' + encodeURIComponent(school) + '/terms', { terms });
        await open(school);
        C.say('Terms saved.');
      } catch (e) { showErrors(e, true); }
    });
    $('periods-save').addEventListener('click', () => {
      const lines = ['weekday,start,end,kind,session,name,classroom'];
      for (const tr of $('periods-rows').children) {
        lines.push(['weekday', 'start', 'end', 'kind', 'session', 'name', 'classroom']
          .map((n) => csvField(tr.querySelector('[name=' + n + ']').value)).join(','));
      }
      saveCSV(lines.join('\n') + '\n', true);
    });
    $('tt-import-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const file = ev.target.querySelector('[name=file]').files[0];
      if (file) await saveCSV(await file.text());
    });
    $('policy-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await C.api('PUT', '/api/v1/schools/' + encodeURIComponent(school) + '/code-policy', { suggest_code: $('policy-code').value });
        C.say('Policy saved.');
      } catch (e) { C.say(e.message, true); }
    });
  }

  return { start };
})();
