// Listen and understand, for staff who may see a pupil's case: the
// barriers to attendance as each person named them, the support agreed,
// the contact log (the staff's view of a pupil, /ewo#pupil=…), the
// compact part of the printed summary, and the records of the plan's
// reviews with the pupil's own words (the plan page). The server decides
// who may see the case: a refusal (403, 404) shows nothing. Text goes in
// with textContent only, every word from the page's catalogue.
'use strict';

window.seatlinkSupport = (() => {
  const C = window.seatlinkConsole;
  const I = window.seatlinkI18n;
  const t = I.t;
  // The standard lists (casework.BarrierKinds, Voices, SupportStatuses,
  // ContactKinds, Participants).
  const KINDS = ['anxiety', 'illness', 'send', 'bullying', 'family', 'transport', 'other'];
  const NAMED_BY = ['pupil', 'parent', 'school', 'ewo'];
  const STATUSES = ['agreed', 'in_progress', 'done', 'dropped'];
  const CONTACTS = ['meeting', 'call', 'home_visit', 'other'];
  const PARTICIPANTS = ['pupil', 'parent', 'key_adult', 'school', 'ewo', 'other'];
  // How many of each the printed summary lists before "and N more".
  const PRINT_MAX = 3;
  const PRINT_WORDS = 160;

  const kindWord = (k) => (I.has('casework.barrier.kind.' + k) ? t('casework.barrier.kind.' + k) : k);
  const namedWord = (v) => (I.has('casework.named_by.' + v) ? t('casework.named_by.' + v) : v);
  const statusWord = (s) => (I.has('casework.support.status.' + s) ? t('casework.support.status.' + s) : s);
  const contactWord = (k) => (I.has('casework.contact.kind.' + k) ? t('casework.contact.kind.' + k) : k);
  const partWord = (p) => (I.has('casework.participant.' + p) ? t('casework.participant.' + p) : p);
  const listWord = (parts) => (parts.length < 2 ? parts[0] || ''
    : t('plan.phase.list_and', { list: parts.slice(0, -1).join(', '), last: parts[parts.length - 1] }));
  const day = (d) => I.date(d, { day: 'numeric', month: 'short', year: 'numeric' });
  // today is the device's date (YYYY-MM-DD).
  function today() {
    const n = new Date();
    return new Date(n.getTime() - n.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }
  const isOpen = (s) => s.status === 'agreed' || s.status === 'in_progress';
  const overdue = (s) => isOpen(s) && s.due_on < today();
  const standing = (b) => !b.resolved_at;
  const pupilPath = (id, rest) => '/api/v1/pupils/' + encodeURIComponent(id) + rest;
  const short = (s, n) => ([...s].length > n ? [...s].slice(0, n - 1).join('').trimEnd() + '…' : s);

  // load is the pupil's case, or null when the reader may not see it.
  async function load(pupilID) {
    try {
      return await C.api('GET', pupilPath(pupilID, '/case'));
    } catch (e) {
      if (e.status === 403 || e.status === 404) return null;
      throw e;
    }
  }

  // barrierItem is one barrier: its kind, who named it and when, their
  // words, standing or resolved; onResolve (if given) makes a button.
  function barrierItem(b, onResolve) {
    const li = C.el('li', null, { class: 'barrier' + (standing(b) ? ' standing' : ' resolved'), 'data-id': b.id });
    const head = C.el('p', null, { class: 'case-head' });
    head.appendChild(C.el('strong', kindWord(b.kind)));
    head.append(' ');
    head.appendChild(C.el('span', standing(b) ? t('casework.barriers.standing') : t('casework.barriers.resolved_on', { date: day(b.resolved_at) }),
      { class: 'chip ' + (standing(b) ? 'standing' : 'resolved') }));
    li.appendChild(head);
    li.appendChild(C.el('p', t('casework.barriers.named', { who: namedWord(b.named_by), date: day(b.at) }), { class: 'meta' }));
    if (b.words) li.appendChild(C.el('p', t('casework.quote', { words: b.words }), { class: 'words' }));
    if (onResolve && standing(b)) {
      const btn = C.el('button', t('casework.barriers.resolve'), { type: 'button', class: 'resolve',
        'aria-label': t('casework.barriers.resolve_named', { kind: kindWord(b.kind) }) });
      btn.addEventListener('click', () => onResolve(b, btn));
      li.appendChild(btn);
    }
    return li;
  }

  // supportItem is one action: what, who owns it, by when, where it
  // stands, "overdue" in words; onStatus (if given) a status changer.
  function supportItem(s, onStatus) {
    const li = C.el('li', null, { class: 'support' + (overdue(s) ? ' overdue' : '') + (isOpen(s) ? ' open' : ''), 'data-id': s.id });
    const head = C.el('p', null, { class: 'case-head' });
    head.appendChild(C.el('strong', s.action));
    li.appendChild(head);
    const meta = C.el('p', t('casework.support.owner_due', { owner: s.owner, date: day(s.due_on), status: statusWord(s.status) }), { class: 'meta' });
    if (overdue(s)) {
      meta.append(' ');
      meta.appendChild(C.el('span', t('casework.support.overdue'), { class: 'chip overdue' }));
    }
    li.appendChild(meta);
    if (onStatus) {
      const f = C.el('form', null, { class: 'status-form' });
      const sel = C.el('select', null, { name: 'status', 'aria-label': t('casework.support.status_of', { action: short(s.action, 80) }) });
      for (const st of STATUSES) {
        const o = C.el('option', statusWord(st), { value: st });
        if (st === s.status) o.selected = true;
        sel.appendChild(o);
      }
      f.appendChild(C.el('span', t('casework.support.status'), { class: 'label', 'aria-hidden': 'true' }));
      f.appendChild(sel);
      f.appendChild(C.el('button', t('casework.support.change'), { type: 'submit',
        'aria-label': t('casework.support.change_named', { action: short(s.action, 80) }) }));
      f.addEventListener('submit', (ev) => { ev.preventDefault(); onStatus(s, sel.value, f); });
      li.appendChild(f);
    }
    return li;
  }

  function contactItem(c) {
    const li = C.el('li', null, { class: 'contact', 'data-id': c.id });
    const head = C.el('p', null, { class: 'case-head' });
    head.appendChild(C.el('strong', t('casework.contacts.head', { date: day(c.held_on), kind: contactWord(c.kind) })));
    li.appendChild(head);
    li.appendChild(C.el('p', t('casework.contacts.with', { who: listWord(c.participants.map(partWord)) }), { class: 'meta' }));
    if (c.notes) li.appendChild(C.el('p', c.notes, { class: 'words' }));
    return li;
  }

  // Barriers and support on the staff's view of a pupil: the page holds
  // the headings and forms (ewo.html); this fills the lists and sends
  // the forms. show(pupilID) loads the case and says whether there is
  // one to show.
  function staffPanel() {
    const $ = (id) => document.getElementById(id);
    let pupilID = '';
    let current = null;

    function draw(c) {
      current = c;
      const bl = $('barrier-list');
      bl.textContent = '';
      // Standing first, then resolved; each in the order recorded.
      const bs = c.barriers.filter(standing).concat(c.barriers.filter((b) => !standing(b)));
      for (const b of bs) bl.appendChild(barrierItem(b, resolve));
      bl.hidden = !bs.length;
      $('barriers-none').hidden = bs.length > 0;
      const sl = $('support-list');
      sl.textContent = '';
      for (const s of c.support) sl.appendChild(supportItem(s, setStatus));
      sl.hidden = !c.support.length;
      $('support-none').hidden = c.support.length > 0;
      const cl = $('contact-list');
      cl.textContent = '';
      for (const x of c.contacts) cl.appendChild(contactItem(x));
      cl.hidden = !c.contacts.length;
      $('contacts-none').hidden = c.contacts.length > 0;
      const rl = $('case-review-list');
      rl.textContent = '';
      for (const r of c.reviews) {
        const li = C.el('li');
        li.appendChild(C.el('a', t('casework.reviews.item', { date: day(r.review_on) }), { href: '/plan#' + encodeURIComponent(r.plan_id) }));
        li.append(' ', t('casework.reviews.with', { who: listWord(r.participants.map(partWord)) }));
        rl.appendChild(li);
      }
      $('case-reviews').hidden = !c.reviews.length;
      printed(c);
    }

    // printed is the summary's compact part: the standing barriers and
    // the open actions, "and N more" past what one page holds.
    function printed(c) {
      const box = $('support-print');
      const one = (id, items, item, none) => {
        const ul = $(id);
        ul.textContent = '';
        for (const x of items.slice(0, PRINT_MAX)) ul.appendChild(item(x));
        if (!items.length) ul.appendChild(C.el('li', none, { class: 'none' }));
        if (items.length > PRINT_MAX) ul.appendChild(C.el('li', t('casework.print.more', { n: items.length - PRINT_MAX }), { class: 'more' }));
      };
      one('print-barriers', c.barriers.filter(standing), (b) => {
        const li = C.el('li');
        li.appendChild(C.el('strong', kindWord(b.kind)));
        li.append(' ' + t('casework.print.named', { who: namedWord(b.named_by) }));
        if (b.words) li.append(' ' + t('casework.quote', { words: short(b.words, PRINT_WORDS) }));
        return li;
      }, t('casework.print.no_barriers'));
      one('print-support', c.support.filter(isOpen), (s) => {
        const li = C.el('li');
        li.appendChild(C.el('strong', short(s.action, PRINT_WORDS)));
        li.append(' ' + t('casework.print.owner_due', { owner: s.owner, date: day(s.due_on), status: statusWord(s.status) }));
        if (overdue(s)) li.append(' ' + t('casework.print.overdue'));
        return li;
      }, t('casework.print.no_support'));
      box.hidden = false;
      document.body.classList.add('has-support');
    }

    async function reload(say, text) {
      const c = await load(pupilID);
      if (c) draw(c);
      if (say) C.result(say, text);
    }

    async function resolve(b, btn) {
      btn.disabled = true;
      try {
        await C.api('POST', '/api/v1/barriers/' + encodeURIComponent(b.id) + '/resolve');
        await reload($('barrier-list-status'), t('casework.barriers.resolved', { kind: kindWord(b.kind) }));
      } catch (e) {
        btn.disabled = false;
        C.result($('barrier-list-status'), C.problem(e), true);
      }
    }

    async function setStatus(s, status, f) {
      const btn = f.querySelector('button');
      btn.disabled = true;
      try {
        await C.api('PUT', '/api/v1/support/' + encodeURIComponent(s.id) + '/status', { status });
        await reload($('support-list-status'), t('casework.support.status_saved', { action: short(s.action, 80), status: statusWord(status) }));
      } catch (e) {
        btn.disabled = false;
        C.result($('support-list-status'), C.problem(e), true);
      }
    }

    // submit sends a form: check(f) names what is missing (the field
    // to mark and the words to say), body(f) is what to send.
    function wire(formID, statusID, path, check, body, said) {
      const f = $(formID);
      f.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const out = $(statusID);
        for (const el of f.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
        const missing = check(f);
        if (missing) {
          missing[0].setAttribute('aria-invalid', 'true');
          C.result(out, missing[1], true);
          return;
        }
        const btn = f.querySelector('button[type=submit]');
        btn.disabled = true;
        try {
          const made = await C.api('POST', pupilPath(pupilID, path), body(f));
          f.reset();
          await reload();
          C.result(out, said(made));
        } catch (e) {
          C.result(out, C.problem(e), true);
        } finally {
          btn.disabled = false;
        }
      });
    }

    wire('barrier-form', 'barrier-status', '/barriers', () => null,
      (f) => ({ kind: f.kind.value, named_by: f.named_by.value, words: f.words.value.trim() }),
      (b) => t('casework.barriers.added', { kind: kindWord(b.kind) }));
    wire('support-form', 'support-status', '/support', (f) => (!f.action.value.trim() ? [f.action, t('casework.support.need_action')]
      : !f.owner.value.trim() ? [f.owner, t('casework.support.need_owner')] : !f.due_on.value ? [f.due_on, t('casework.support.need_due')] : null),
    (f) => ({ action: f.action.value.trim(), owner: f.owner.value.trim(), due_on: f.due_on.value }),
    (s) => t('casework.support.added', { action: short(s.action, 80), date: day(s.due_on) }));
    wire('contact-form', 'contact-status', '/contacts', (f) => (!f.held_on.value ? [f.held_on, t('casework.contacts.need_date')]
      : f.held_on.value > today() ? [f.held_on, t('casework.contacts.future')]
        : !f.querySelector('[name=participants]:checked') ? [f.querySelector('[name=participants]'), t('casework.contacts.need_who')] : null),
    (f) => ({ kind: f.kind.value, held_on: f.held_on.value, notes: f.notes.value.trim(),
      participants: Array.from(f.querySelectorAll('[name=participants]:checked')).map((x) => x.value) }),
    (c) => t('casework.contacts.added', { kind: contactWord(c.kind), date: day(c.held_on) }));
    $('contact-form').held_on.max = today();

    async function show(id) {
      pupilID = id;
      let c = null;
      try { c = await load(id); } catch (e) { c = null; }
      $('support-panel').hidden = !c;
      if (!c) {
        current = null;
        $('support-print').hidden = true;
        document.body.classList.remove('has-support');
        return false;
      }
      draw(c);
      return true;
    }
    return { show, get case() { return current; } };
  }

  // reviews fills ul with the plan's reviews: each date, its record if
  // it has one (who took part, the pupil's words, the barriers and
  // support as they stood, what was decided), else, for staff who may
  // see the case, "Record this review" with the pupil's words for it
  // shown before the form. c is the case (null: the date alone).
  // opts: pupilName, statusEl (the result, beside the list), onRecorded().
  let seq = 0;
  function reviews(ul, plan, c, opts) {
    ul.textContent = '';
    for (const r of plan.reviews) {
      const li = C.el('li', null, { class: 'review', 'data-on': r.on });
      li.appendChild(C.el('p', r.held ? t('plan.review.held', { date: window.seatlinkPlan.nice(r.on) }) : window.seatlinkPlan.nice(r.on),
        { class: 'review-date' }));
      if (c) {
        const recs = c.reviews.filter((x) => x.plan_id === plan.id && x.review_on === r.on);
        for (const rec of recs) li.appendChild(record(rec));
        if (!recs.length) li.appendChild(recordForm(plan, r, c, opts));
      }
      ul.appendChild(li);
    }
    if (!plan.reviews.length) ul.appendChild(C.el('li', t('plan.review.none')));
  }

  // wordsFor is the pupil's latest words for a review (the case's voices
  // are newest first).
  const wordsFor = (c, planID, on) => (c.voices || []).find((v) => v.plan_id === planID && v.review_on === on);

  function record(rec) {
    const box = C.el('div', null, { class: 'review-record', 'data-id': rec.id });
    box.appendChild(C.el('p', t('casework.review.recorded', { date: day(rec.at) }), { class: 'recorded' }));
    const dl = C.el('dl');
    const row = (key, node) => {
      dl.appendChild(C.el('dt', t(key)));
      const dd = C.el('dd');
      if (typeof node === 'string') dd.textContent = node; else dd.appendChild(node);
      dl.appendChild(dd);
    };
    row('casework.review.took_part', listWord(rec.participants.map(partWord)));
    row('casework.review.pupil_words', rec.pupil_words ? t('casework.quote', { words: rec.pupil_words }) : t('casework.review.no_words'));
    const bl = C.el('ul', null, { class: 'compact' });
    for (const b of rec.barriers || []) {
      bl.appendChild(C.el('li', b.words ? t('casework.review.barrier_words', { kind: kindWord(b.kind), who: namedWord(b.named_by), words: b.words })
        : t('casework.review.barrier', { kind: kindWord(b.kind), who: namedWord(b.named_by) })));
    }
    if (!(rec.barriers || []).length) bl.appendChild(C.el('li', t('casework.review.no_barriers')));
    row('casework.review.barriers', bl);
    const sl = C.el('ul', null, { class: 'compact' });
    for (const s of rec.support || []) {
      sl.appendChild(C.el('li', t('casework.review.support', { action: s.action, owner: s.owner, date: day(s.due_on), status: statusWord(s.status) })));
    }
    if (!(rec.support || []).length) sl.appendChild(C.el('li', t('casework.review.no_support')));
    row('casework.review.support_then', sl);
    row('casework.review.decided', C.el('span', rec.decided, { class: 'decided' }));
    box.appendChild(dl);
    return box;
  }

  function recordForm(plan, r, c, opts) {
    const id = 'review-' + (++seq);
    const wrap = C.el('details', null, { class: 'record-review' });
    wrap.appendChild(C.el('summary', t('casework.review.record'), { 'aria-label': t('casework.review.record_named', { date: day(r.on) }) }));
    const said = wordsFor(c, plan.id, r.on);
    const voice = C.el('div', null, { class: 'pupil-voice' });
    voice.appendChild(C.el('h4', t('casework.review.voice_title', { name: opts.pupilName }), { id: id + '-voice' }));
    voice.appendChild(said ? C.el('p', t('casework.quote', { words: said.words }), { class: 'words voice-words' })
      : C.el('p', t('casework.review.voice_none'), { class: 'empty' }));
    if (said) voice.appendChild(C.el('p', t('casework.review.voice_when', { date: day(said.at) }), { class: 'meta' }));
    wrap.appendChild(voice);
    const f = C.el('form', null, { class: 'form review-form', novalidate: '' });
    const fs = C.el('fieldset', null, { class: 'who' });
    fs.appendChild(C.el('legend', t('casework.review.who')));
    for (const p of PARTICIPANTS) {
      const l = C.el('label', null, { class: 'check' });
      l.appendChild(C.el('input', null, { type: 'checkbox', name: 'participants', value: p }));
      l.append(' ' + partWord(p));
      fs.appendChild(l);
    }
    f.appendChild(fs);
    const dl = C.el('label', null, { for: id + '-decided' });
    dl.textContent = t('casework.review.decided_label');
    f.appendChild(dl);
    const ta = C.el('textarea', null, { id: id + '-decided', name: 'decided', rows: '4', maxlength: '4000' });
    f.appendChild(ta);
    f.appendChild(C.el('p', t('casework.review.kept'), { class: 'meta' }));
    const row = C.el('div', null, { class: 'send-row' });
    const btn = C.el('button', t('casework.review.save'), { type: 'submit' });
    const out = C.el('p', null, { class: 'result', role: 'status' });
    row.appendChild(btn);
    row.appendChild(out);
    f.appendChild(row);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const parts = Array.from(f.querySelectorAll('[name=participants]:checked')).map((x) => x.value);
      ta.removeAttribute('aria-invalid');
      if (!parts.length) { C.result(out, t('casework.review.need_who'), true); return; }
      if (!ta.value.trim()) {
        ta.setAttribute('aria-invalid', 'true');
        C.result(out, t('casework.review.need_decided'), true);
        return;
      }
      btn.disabled = true;
      try {
        await C.api('POST', '/api/v1/plans/' + encodeURIComponent(plan.id) + '/reviews/' + encodeURIComponent(r.on) + '/record',
          { participants: parts, decided: ta.value.trim() });
        if (opts.onRecorded) await opts.onRecorded(r.on);
      } catch (e) {
        btn.disabled = false;
        C.result(out, C.problem(e), true);
      }
    });
    wrap.appendChild(f);
    return wrap;
  }

  return { load, staffPanel, reviews, kindWord, statusWord, KINDS, NAMED_BY, STATUSES, CONTACTS, PARTICIPANTS };
})();
