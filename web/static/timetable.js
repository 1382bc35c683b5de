// The timetable edit page (in the staff console, for LA admins): a
// school's terms with their holidays, its week of periods and its
// code-suggestion policy. Saving sends the whole timetable as the CSV
// import reads it, so the page and a MIS file are checked by the same
// rules, all or nothing; terms and holidays are saved, or uploaded as a
// calendar file, all or nothing too.
'use strict';

window.seatlinkTimetable = (() => {
  const C = window.seatlinkConsole;
  const I = window.seatlinkI18n;
  const t = (key, vars) => I.t(key, vars);
  // tk is the text of a key made of a prefix and a name.
  const tk = (prefix, name, vars) => I.t(prefix + name, vars);
  const $ = (id) => document.getElementById(id);
  // The CSV's values stay as the import reads them; the page shows them
  // in the page's language.
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const KINDS = ['lesson', 'break', 'lunch', 'club', 'registration'];
  let school = '';

  // words is what the page shows for a value of a column.
  const words = (col, v) => (I.has('staff.tt.' + col + '.' + v.toLowerCase()) ? tk('staff.tt.', col + '.' + v.toLowerCase()) : v);
  function select(name, options, value) {
    const s = C.el('select', null, { name, 'aria-label': tk('staff.tt.field.', name) });
    for (const o of options) s.appendChild(C.el('option', words(name, o), { value: o }));
    s.value = value;
    return s;
  }
  function input(name, type, value) {
    const i = C.el('input', null, { name, type, 'aria-label': tk('staff.tt.field.', name) });
    i.value = value || '';
    return i;
  }
  function removeButton(tr) {
    const b = C.el('button', t('staff.tt.remove'), { type: 'button' });
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
    name.setAttribute('aria-label', t('staff.tt.holiday_name'));
    from.setAttribute('aria-label', t('staff.tt.holiday_first'));
    to.setAttribute('aria-label', t('staff.tt.holiday_last'));
    const b = removeButton(tr);
    b.textContent = t('staff.tt.holiday_remove');
    tr.appendChild(document.createElement('td')).appendChild(b);
    tbody.appendChild(tr);
    return tr;
  }

  // termBlock is one term: its name and dates, then the holidays inside it.
  function termBlock(term) {
    const fs = C.el('fieldset', null, { class: 'term' });
    fs.appendChild(C.el('legend', t('staff.tt.term')));
    const fields = C.el('div', null, { class: 'term-fields form inline' });
    fields.append(labelled(t('staff.tt.field.name'), 'name', 'text', term.name), labelled(t('staff.tt.first_day'), 'starts_on', 'date', term.starts_on),
      labelled(t('staff.tt.last_day'), 'ends_on', 'date', term.ends_on));
    const rm = C.el('button', t('staff.tt.term_remove'), { type: 'button', class: 'term-remove' });
    rm.addEventListener('click', () => fs.remove());
    fields.appendChild(rm);
    fs.appendChild(fields);
    const table = C.el('table', null, { class: 'holidays' });
    table.appendChild(C.el('caption', t('staff.tt.holidays_caption')));
    const head = table.appendChild(document.createElement('thead')).appendChild(document.createElement('tr'));
    for (const h of [t('staff.tt.field.name'), t('staff.tt.first_day'), t('staff.tt.last_day')]) head.appendChild(C.el('th', h, { scope: 'col' }));
    head.appendChild(C.el('th', null, { scope: 'col' })).appendChild(C.el('span', t('staff.robots.col_actions'), { class: 'sr' }));
    const body = table.appendChild(C.el('tbody', null, { class: 'holiday-rows' }));
    for (const h of term.holidays || []) holidayRow(body, h);
    const wrap = C.el('div', null, { class: 'scroll' });
    wrap.appendChild(table);
    fs.appendChild(wrap);
    const add = C.el('button', t('staff.tt.holiday_add'), { type: 'button', class: 'holiday-add' });
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
      const term = terms[row - 1];
      return { el: term.el, label: term.name ? t('staff.tt.term_row_named', { n: row, name: term.name }) : t('staff.tt.term_row', { n: row }) };
    }
    let n = terms.length;
    for (const term of terms) {
      for (const [i, h] of term.holidays.entries()) {
        if (++n !== row) continue;
        const label = t('staff.tt.holiday_row', { term: term.name || t('staff.tt.term'), n: i + 1 });
        return { el: h.el, label: h.name ? t('staff.tt.with_name', { label, name: h.name }) : label };
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
  function showErrors(e, tableID, where, out) {
    const table = $(tableID);
    const rep = e.data && e.data.report;
    if (!rep) { table.hidden = true; C.result(out, C.problem(e), true); return; }
    const body = table.querySelector('tbody');
    body.textContent = '';
    for (const x of rep.errors) body.appendChild(C.row([where(x), x.field, x.message]));
    table.hidden = false;
    C.result(out, e.message, true);
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
    for (const [cat, label] of [['authorised', t('staff.tt.policy_authorised')], ['unauthorised', t('staff.tt.policy_unauthorised')]]) {
      const g = C.el('optgroup', null, { label });
      for (const c of absence) if (c.category === cat && c !== c2) g.appendChild(opt(c));
      sel.appendChild(g);
    }
    sel.appendChild(C.el('option', t('staff.tt.policy_none'), { value: '' }));
    sel.value = current;
    if (sel.value !== current) { // a code set before only absence codes were allowed
      const old = codes.find((c) => c.code === current);
      const o = C.el('option', t('staff.tt.policy_not_absence', { code: current + (old ? ': ' + old.meaning : '') }), { value: current, disabled: '' });
      sel.insertBefore(o, sel.firstChild);
      sel.value = current;
      $('policy-error').textContent = t('staff.tt.policy_now', { code: current });
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
      C.result($('tt-result'), t('staff.tt.saved', { n: r.periods }));
    } catch (e) { showErrors(e, 'tt-errors', (x) => (fromTable ? x.row - 1 : x.row), $('tt-result')); }
  }

  const count = (terms) => t('staff.tt.count', { terms: t('staff.tt.terms', { n: terms.length }),
    holidays: t('staff.tt.holidays', { n: terms.reduce((n, term) => n + (term.holidays || []).length, 0) }) });
  const termsURL = () => '/api/v1/schools/' + encodeURIComponent(school) + '/terms';

  async function saveTerms() {
    const terms = termsOnPage();
    const body = terms.map((term) => ({ name: term.name, starts_on: term.starts_on, ends_on: term.ends_on,
      holidays: term.holidays.map((h) => ({ name: h.name, starts_on: h.starts_on, ends_on: h.ends_on })) }));
    try {
      await C.api('PUT', termsURL(), { terms: body });
      await open(school); // the page shows what was saved, then says so
      C.result($('terms-result'), t('staff.tt.terms_saved', { count: count(body) }));
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
      }, $('terms-result'));
    }
  }

  async function uploadCalendar(file) {
    try {
      const r = await C.api('POST', termsURL(), await file.text(), 'text/csv');
      await open(school);
      C.result($('terms-result'), t('staff.tt.calendar_saved', { count: count(r.terms) }));
    } catch (e) {
      clearErrors();
      showErrors(e, 'terms-errors', (x) => t('staff.tt.line', { n: x.row }), $('terms-result'));
    }
  }

  function start() {
    $('tt-school-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await open($('tt-school').value); C.result($('tt-open-result'), ''); } catch (e) { C.result($('tt-open-result'), e.message, true); }
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
        C.result($('policy-result'), t('staff.tt.policy_saved'));
      } catch (e) {
        // The server says why it refuses a code (not_absence_code).
        const f = e.data && e.data.error && e.data.error.fields && e.data.error.fields[0];
        $('policy-error').textContent = t('staff.tt.policy_not_saved_why', { why: f ? f.message : e.message });
        $('policy-error').hidden = false;
        C.result($('policy-result'), t('staff.tt.policy_not_saved'), true);
      }
    });
  }

  return { start };
})();
