// The timetable edit page (in the staff console, for LA admins): a
// school's terms with their holidays, its week of periods and its
// code-suggestion policy. Saving sends the whole timetable as the CSV
// import reads it, so the page and a MIS file are checked by the same
// rules, all or nothing; terms and holidays are saved, or uploaded as a
// calendar file, all or nothing too.
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

  function labelled(text, name, type, value) {
    const l = C.el('label', text);
    const i = l.appendChild(input(name, type, value));
    i.removeAttribute('aria-label'); // the label names it
    return l;
  }

  function holidayRow(tbody, h) {
    const tr = C.row([input('name', 'text', h.name), input('starts_on', 'date', h.starts_on), input('ends_on', 'date', h.ends_on)]);
    tr.className = 'holiday';
    const [name, from, to] = tr.querySelectorAll('input');
    name.setAttribute('aria-label', 'Holiday name');
    from.setAttribute('aria-label', 'Holiday first day');
    to.setAttribute('aria-label', 'Holiday last day');
    const b = removeButton(tr);
    b.textContent = 'Remove holiday';
    tr.appendChild(document.createElement('td')).appendChild(b);
    tbody.appendChild(tr);
    return tr;
  }

  // termBlock is one term: its name and dates, then the holidays inside it.
  function termBlock(t) {
    const fs = C.el('fieldset', null, { class: 'term' });
    fs.appendChild(C.el('legend', 'Term'));
    const fields = C.el('div', null, { class: 'term-fields form inline' });
    fields.append(labelled('Name', 'name', 'text', t.name), labelled('First day', 'starts_on', 'date', t.starts_on),
      labelled('Last day', 'ends_on', 'date', t.ends_on));
    const rm = C.el('button', 'Remove this term', { type: 'button', class: 'term-remove' });
    rm.addEventListener('click', () => fs.remove());
    fields.appendChild(rm);
    fs.appendChild(fields);
    const table = C.el('table', null, { class: 'holidays' });
    table.appendChild(C.el('caption', 'Holidays inside this term: half term, INSET days, bank holidays'));
    const head = table.appendChild(document.createElement('thead')).appendChild(document.createElement('tr'));
    for (const h of ['Name', 'First day', 'Last day', '']) head.appendChild(C.el('th', h, { scope: 'col' }));
    const body = table.appendChild(C.el('tbody', null, { class: 'holiday-rows' }));
    for (const h of t.holidays || []) holidayRow(body, h);
    fs.appendChild(table);
    const add = C.el('button', 'Add a holiday to this term', { type: 'button', class: 'holiday-add' });
    add.addEventListener('click', () => holidayRow(body, { name: '', starts_on: '', ends_on: '' }).querySelector('input').focus());
    fs.appendChild(add);
    $('terms-list').appendChild(fs);
    return fs;
  }

  // termsOnPage reads the terms and their holidays as the page shows them,
  // each with the element it came from.
  function termsOnPage() {
    const val = (el, n) => el.querySelector('[name=' + n + ']').value;
    return Array.from($('terms-list').querySelectorAll('fieldset.term')).map((fs) => {
      const f = fs.querySelector('.term-fields');
      return { el: fs, name: val(f, 'name'), starts_on: val(f, 'starts_on'), ends_on: val(f, 'ends_on'),
        holidays: Array.from(fs.querySelectorAll('.holiday-rows tr')).map((tr) => ({ el: tr, name: val(tr, 'name'),
          starts_on: val(tr, 'starts_on'), ends_on: val(tr, 'ends_on') })) };
    });
  }

  // termRowAt finds what a saved row number names: the terms are rows 1
  // to n, then their holidays in order (engagement.checkTerms).
  function termRowAt(terms, row) {
    if (row >= 1 && row <= terms.length) {
      const t = terms[row - 1];
      return { el: t.el, label: 'Term ' + row + (t.name ? ' (' + t.name + ')' : '') };
    }
    let n = terms.length;
    for (const t of terms) {
      for (const [i, h] of t.holidays.entries()) {
        if (++n === row) return { el: h.el, label: (t.name || 'Term') + ', holiday ' + (i + 1) + (h.name ? ' (' + h.name + ')' : '') };
      }
    }
    return { el: null, label: String(row) };
  }

  function periodRow(p) {
    const tr = C.row([select('weekday', DAYS.slice(1, 6).concat(['Sat', 'Sun']), DAYS[p.weekday]),
      input('start', 'time', p.starts), input('end', 'time', p.ends), select('kind', KINDS, p.kind),
      select('session', ['AM', 'PM'], p.session), input('name', 'text', p.name), input('classroom', 'text', p.classroom_id)]);
    tr.appendChild(document.createElement('td')).appendChild(removeButton(tr));
    $('periods-rows').appendChild(tr);
  }

  // showErrors lists an import's row errors in the table with the given
  // id; where(row) says what each row number names.
  function showErrors(e, tableID, where) {
    const table = $(tableID);
    const rep = e.data && e.data.report;
    if (!rep) { table.hidden = true; C.say(e.message, true); return; }
    const body = table.querySelector('tbody');
    body.textContent = '';
    for (const x of rep.errors) body.appendChild(C.row([where(x), x.field, x.message]));
    table.hidden = false;
    C.say(e.message, true);
  }
  function clearErrors() {
    for (const id of ['tt-errors', 'terms-errors']) $(id).hidden = true;
    for (const el of document.querySelectorAll('#terms-list .bad')) el.classList.remove('bad');
    for (const el of document.querySelectorAll('#terms-list [aria-invalid]')) el.removeAttribute('aria-invalid');
    $('policy-error').hidden = true;
  }

  // policyOptions offers only absence codes, C2 (a part-time timetable)
  // first: the DfE marks a pupil absent and learning remotely as absent.
  function policyOptions(codes, current) {
    const sel = $('policy-code');
    sel.textContent = '';
    const absence = codes.filter((c) => c.category === 'authorised' || c.category === 'unauthorised');
    const opt = (c) => C.el('option', c.code + ': ' + c.meaning, { value: c.code });
    const c2 = absence.find((c) => c.code === 'C2');
    if (c2) sel.appendChild(opt(c2));
    for (const [cat, label] of [['authorised', 'Other authorised absence'], ['unauthorised', 'Unauthorised absence']]) {
      const g = C.el('optgroup', null, { label });
      for (const c of absence) if (c.category === cat && c !== c2) g.appendChild(opt(c));
      sel.appendChild(g);
    }
    sel.appendChild(C.el('option', 'No suggestion', { value: '' }));
    sel.value = current;
    if (sel.value !== current) { // a code set before only absence codes were allowed
      const old = codes.find((c) => c.code === current);
      const o = C.el('option', current + (old ? ': ' + old.meaning : '') + ' (not an absence code: choose another)', { value: current, disabled: '' });
      sel.insertBefore(o, sel.firstChild);
      sel.value = current;
      $('policy-error').textContent = 'The school now suggests ' + current + ', which is not an absence code: choose an absence code, such as C2.';
      $('policy-error').hidden = false;
    }
  }

  async function open(id) {
    school = id;
    const base = '/api/v1/schools/' + encodeURIComponent(id);
    const [terms, periods, policy, codes] = await Promise.all([C.api('GET', base + '/terms'), C.api('GET', base + '/periods'),
      C.api('GET', base + '/code-policy'), C.api('GET', '/api/v1/attendance-codes')]);
    $('terms-list').textContent = '';
    terms.forEach(termBlock);
    $('periods-rows').textContent = '';
    periods.forEach(periodRow);
    clearErrors();
    policyOptions(codes, policy.suggest_code);
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
    } catch (e) { showErrors(e, 'tt-errors', (x) => (fromTable ? x.row - 1 : x.row)); }
  }

  const count = (terms) => plural(terms.length, 'term', 'terms') + ', ' +
    plural(terms.reduce((n, t) => n + (t.holidays || []).length, 0), 'holiday', 'holidays');
  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many);
  const termsURL = () => '/api/v1/schools/' + encodeURIComponent(school) + '/terms';

  async function saveTerms() {
    const terms = termsOnPage();
    const body = terms.map((t) => ({ name: t.name, starts_on: t.starts_on, ends_on: t.ends_on,
      holidays: t.holidays.map((h) => ({ name: h.name, starts_on: h.starts_on, ends_on: h.ends_on })) }));
    try {
      await C.api('PUT', termsURL(), { terms: body });
      await open(school); // the page shows what was saved, then says so
      C.say('Terms saved: ' + count(body) + '.');
    } catch (e) {
      clearErrors();
      showErrors(e, 'terms-errors', (x) => {
        // An overlap's row number counts the terms in date order, not
        // the page's order: its message names both.
        if (x.code === 'overlap') return '–';
        const at = termRowAt(terms, x.row);
        if (at.el) {
          at.el.classList.add('bad');
          for (const i of at.el.querySelectorAll(at.el.tagName === 'TR' ? 'input' : '.term-fields input')) i.setAttribute('aria-invalid', 'true');
        }
        return at.label;
      });
    }
  }

  async function uploadCalendar(file) {
    try {
      const r = await C.api('POST', termsURL(), await file.text(), 'text/csv');
      await open(school);
      C.say('Calendar uploaded: ' + count(r.terms) + '.');
    } catch (e) {
      clearErrors();
      showErrors(e, 'terms-errors', (x) => 'line ' + x.row);
    }
  }

  function start() {
    $('tt-school-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await open($('tt-school').value); } catch (e) { C.say(e.message, true); }
    });
    $('terms-add').addEventListener('click', () => termBlock({ name: '', starts_on: '', ends_on: '', holidays: [] }).querySelector('input').focus());
    $('terms-save').addEventListener('click', saveTerms);
    $('terms-import-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const file = ev.target.querySelector('[name=file]').files[0];
      if (file) await uploadCalendar(file);
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
      const code = $('policy-code').value;
      $('policy-error').hidden = true;
      try {
        await C.api('PUT', '/api/v1/schools/' + encodeURIComponent(school) + '/code-policy', { suggest_code: code });
        C.say('Policy saved.');
      } catch (e) {
        // The server says why it refuses a code (not_absence_code).
        const f = e.data && e.data.error && e.data.error.fields && e.data.error.fields[0];
        $('policy-error').textContent = 'Not saved: ' + (f ? f.message : e.message);
        $('policy-error').hidden = false;
        C.say('The policy was not saved.', true);
      }
    });
  }

  return { start };
})();
